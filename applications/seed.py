"""The 2024 session of the FAQ (all Beijing time), used by the data migration and by test fixtures."""

import datetime
import zoneinfo

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")


def _at(year, month, day, hour=0, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=BEIJING)


SESSION_2024 = {
    "year": 2024,
    "registration_opens": _at(2024, 6, 19),
    "registration_closes": _at(2024, 7, 2, 12),
    "payment_closes": _at(2024, 7, 2, 18),
    "exam_first_day": datetime.date(2024, 9, 7),
    "exam_last_day": datetime.date(2024, 9, 9),
    "admit_card_from": datetime.date(2024, 9, 2),
    "admit_card_to": datetime.date(2024, 9, 4),
    "info_change_deadline": datetime.date(2024, 8, 18),
    "exemption_deadline": _at(2024, 7, 2, 12),
    "duplicate_list_due": datetime.date(2024, 7, 9),
    "realname_auth_last_day": datetime.date(2024, 6, 27),
    "young_candidate_cutoff": datetime.date(1998, 7, 2),
    "ce_total_credits": 90,
    "ce_professional_credits": 60,
    "ce_public_credits": 30,
    "review_sla_workdays": 2,
}


def create_session_2024(session_model):
    """Create the 2024 session unless it exists; it is current when no other session is."""
    session, created = session_model.objects.get_or_create(year=2024, defaults=SESSION_2024)
    if created and not session_model.objects.filter(is_current=True).exists():
        session_model.objects.filter(pk=session.pk).update(is_current=True)
