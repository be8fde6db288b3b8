"""What books a visit: an in-person request (tickets.Ticket) or a foreign candidate's application sent to in-person
review (applications.Application, FAQ 20). One small adapter gives the booking rules, the pages and the emails the
same few attributes for both (the emails' templates read them under the name `ticket`)."""

from django.utils.translation import gettext_lazy as _

from applications.models import Application
from applications.models import Status as ApplicationStatus
from tickets.models import OPEN_STATUSES, Ticket

from .models import FOREIGN_REGISTRATION

# The key of a foreign candidate's registration in CounterSettings.kinds, beside the request kinds.
FOREIGN_REGISTRATION_LABEL = _("Foreign candidate's registration (in-person review)")


class Visitor:
    def __init__(self, record):
        self.record = record
        self.is_ticket = isinstance(record, Ticket)

    # What a booking points to: Booking.ticket or Booking.application.
    @property
    def field(self):
        return "ticket" if self.is_ticket else "application"

    @property
    def pk(self):
        return self.record.pk

    @property
    def office(self):
        return self.record.office

    @property
    def office_id(self):
        return self.record.office_id

    @property
    def reference(self):
        return self.record.reference

    @property
    def status_token(self):
        return self.record.status_token

    @property
    def status_url(self):
        return self.record.status_url

    @property
    def email(self):
        return self.record.email

    @property
    def language(self):
        return self.record.language

    @property
    def candidate(self):
        return self.record.candidate

    @property
    def kind(self):
        return self.record.kind if self.is_ticket else FOREIGN_REGISTRATION

    def get_kind_display(self):
        return self.record.get_kind_display() if self.is_ticket else str(FOREIGN_REGISTRATION_LABEL)

    @property
    def deadline(self):
        """The in-person deadline: the request's; for an application in in-person review, the exemption and
        foreign-candidate deadline of its session (12:00 on the last registration day)."""
        if self.is_ticket:
            return self.record.deadline
        session = self.record.session
        return session.exemption_deadline or session.derived_value("exemption_deadline")

    @property
    def last_moment(self):
        return self.record.last_moment if self.is_ticket else self.deadline

    @property
    def is_open(self):
        if self.is_ticket:
            return self.record.status in OPEN_STATUSES
        return self.record.status == ApplicationStatus.IN_PERSON_REVIEW

    @property
    def status_page(self):
        """The URL name of the record's own status page."""
        return "tickets:status" if self.is_ticket else "applications:status"

    def bookings(self):
        from .models import Booking

        return Booking.objects.filter(**{self.field: self.record})

    def locked(self):
        """The record's row locked (inside a transaction): one booking change per request or application at a time."""
        model = Ticket if self.is_ticket else Application
        related = ("office", "candidate") if self.is_ticket else ("office", "candidate", "session")
        return Visitor(model.objects.select_for_update(of=("self",)).select_related(*related).get(pk=self.pk))

    def note(self, text, now, by=None, actor="candidate"):
        """A line in the request's history. An application's history lists status changes only (the candidate
        reads it on the status page), so there the audit entry of the booking is the record."""
        if self.is_ticket:
            self.record.note(by, text, now, actor=actor)


def visitor_of(record):
    return record if isinstance(record, Visitor) else Visitor(record)


def by_token(token):
    """The request or application of a private status token, or None."""
    ticket = Ticket.objects.select_related("office", "candidate").filter(status_token=token).first()
    if ticket is not None:
        return Visitor(ticket)
    application = (
        Application.objects.select_related("office", "candidate", "session").filter(status_token=token).first()
    )
    return Visitor(application) if application is not None else None


def by_reference(user, reference):
    """The request or application of `reference` that `user` may see (office scoping), or None."""
    for model in (Ticket, Application):
        found = model.objects.for_user(user).filter(reference=reference).first()
        if found is not None:
            return Visitor(found)
    return None
