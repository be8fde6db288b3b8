"""The dashboard (portal/dashboard.py): every figure equals the row count of the changelist it links to, for the
same user; the demo gives every section non-zero figures; the query count does not grow with the data."""

import datetime
import io
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from offices.models import User
from offices.workdays import BEIJING
from portal import dashboard

pytestmark = pytest.mark.django_db

USERS = ["reviewer_urumqi", "manager_urumqi", "regional_admin"]


@pytest.fixture
def demo(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 26, 10, tzinfo=BEIJING))
    call_command("demo", stdout=io.StringIO())


def changelist_count(client, link):
    parts = urlsplit(link)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200, link
    changelist = response.context_data["cl"]
    # A wrong parameter makes the admin redirect with ?e=1 instead of filtering: the link must be exact.
    assert "e" not in response.wsgi_request.GET
    return changelist.result_count


def every_figure(user):
    figures = dashboard.office_figures(user)
    for figure in figures["applications"] + figures["tickets"]:
        yield figure["label"], figure["count"], figure["link"]
    for kind in figures["ticket_kinds"]:
        for cell in kind["cells"]:
            yield kind["label"], cell["count"], cell["link"]
    if user.sees_all_offices:
        table = dashboard.regional_table(user)
        for count, link in table["totals"]:
            yield "total", count, link
        for row in table["rows"]:
            for count, link in row["cells"]:
                yield str(row["office"]), count, link


@pytest.mark.parametrize("username", USERS)
def test_every_figure_is_the_row_count_of_its_link(demo, client, username):
    user = User.objects.get(username=username)
    client.force_login(user)
    checked = nonzero = 0
    for label, count, link in every_figure(user):
        assert changelist_count(client, link) == count, (label, link)
        checked += 1
        nonzero += count > 0
    assert checked >= 9 and nonzero >= 4


def test_after_payment_close_the_undecided_are_listed_and_every_figure_still_exact(demo, client, time_machine):
    """Issue 12: applications still undecided at payment close are a figure of their own (the candidate can no
    longer pay), for the office and in the regional table, and link to exactly those rows."""
    from applications.models import ExamSession

    time_machine.move_to(ExamSession.objects.current().payment_closes + datetime.timedelta(hours=1))
    user = User.objects.get(username="regional_admin")
    client.force_login(user)
    figures = {figure["key"]: figure for figure in dashboard.office_figures(user)["applications"]}
    assert figures["undecided_after_close"]["count"] > 0
    assert figures["payment_closing"]["count"] == figures["undecided_before_close"]["count"] == 0
    for label, count, link in every_figure(user):
        assert changelist_count(client, link) == count, (label, link)


@pytest.mark.parametrize("username", USERS)
def test_demo_gives_every_section_nonzero_figures(demo, client, username):
    user = User.objects.get(username=username)
    figures = dashboard.office_figures(user)
    assert sum(f["count"] for f in figures["applications"]) > 0
    assert sum(f["count"] for f in figures["tickets"]) > 0
    assert sum(cell["count"] for kind in figures["ticket_kinds"] for cell in kind["cells"]) > 0
    assert figures["deadlines"]
    season = dashboard.season_figures(user)
    assert sum(day["submitted"] for day in season["days"]) > 0
    assert sum(day["decided"] for day in season["days"]) > 0
    assert sum(day["paid"] for day in season["days"]) > 0
    assert season["decided"] > 0 and season["in_time_percent"] is not None
    if user.sees_all_offices:
        table = dashboard.regional_table(user)
        assert len(table["rows"]) == 15
        assert any(row["trouble"] for row in table["rows"])
        assert sum(count for count, _link in table["totals"]) > 0
    client.force_login(user)
    page = client.get("/admin/").content.decode()
    assert "今日工作" in page and "AUDIT LOG" not in page


def test_the_dashboard_is_scoped_to_the_office(demo):
    reviewer = User.objects.get(username="reviewer_urumqi")
    regional = User.objects.get(username="regional_admin")
    mine = {f["key"]: f["count"] for f in dashboard.office_figures(reviewer)["applications"]}
    every = {f["key"]: f["count"] for f in dashboard.office_figures(regional)["applications"]}
    assert all(mine[key] <= every[key] for key in mine)
    assert mine != every


def test_query_count_does_not_depend_on_the_office(demo, client):
    counts = []
    for username in ["reviewer_urumqi", "reviewer_kashgar"]:
        client.force_login(User.objects.get(username=username))
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/admin/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("username", USERS)
def test_season_figures_are_the_counts_of_the_rows(demo, username):
    """Read from the counters, the season figures equal what the user's applications of the session say, counted
    here from the rows: per day, the SLA share, and the median time to decision to the tenth of an hour."""
    from applications.models import Application, ExamSession

    user = User.objects.get(username=username)
    session = ExamSession.objects.current()
    rows = list(
        Application.objects.for_user(user)
        .filter(session=session)
        .values_list("submitted_at", "decided_at", "paid_at", "due_at")
    )
    season = dashboard.season_figures(user)

    def day(moment):
        return timezone.localtime(moment, BEIJING).date()

    for index, series in enumerate(("submitted", "decided", "paid")):
        for shown in season["days"]:
            expected = sum(1 for row in rows if row[index] is not None and day(row[index]) == shown["day"])
            assert shown[series] == expected, (series, shown["day"])
    decided = [(submitted, at, due) for submitted, at, _paid, due in rows if at is not None]
    in_time = sum(1 for _submitted, at, due in decided if due is not None and at <= due)
    assert season["decided"] == len(decided) > 0
    assert season["in_time_percent"] == round(100 * in_time / len(decided))
    hours = sorted((at - submitted).total_seconds() / 3600 for submitted, at, _due in decided)
    middle = (hours[(len(hours) - 1) // 2] + hours[len(hours) // 2]) / 2
    assert abs(season["median_hours"] - middle) <= 0.1


def test_season_figures_read_two_small_queries_at_any_volume(demo, django_assert_num_queries):
    """The per-day rows and the decision times of the counters, one query each (and the current session)."""
    user = User.objects.get(username="regional_admin")
    with django_assert_num_queries(3):
        dashboard.season_figures(user)


def test_median_of_counted_decision_times():
    assert dashboard.median_tenths([]) is None
    assert dashboard.median_tenths([(12, 1)]) == 12
    assert dashboard.median_tenths([(10, 1), (30, 1)]) == 20  # the mean of the two middle ones
    assert dashboard.median_tenths([(5, 2), (7, 1), (40, 1)]) == 6
    assert dashboard.median_tenths([(5, 3), (7, 1), (40, 1)]) == 5


def test_regional_table_sorts_and_downloads(demo, client):
    client.force_login(User.objects.get(username="regional_admin"))
    table = dashboard.regional_table(User.objects.get(username="regional_admin"), order="-applications_overdue")
    overdue = [row["cells"][1][0] for row in table["rows"]]
    assert overdue == sorted(overdue, reverse=True)
    response = client.get("/admin/dashboard/offices.xlsx")
    assert response.status_code == 200 and response.content[:2] == b"PK"
    client.force_login(User.objects.get(username="reviewer_urumqi"))
    assert client.get("/admin/dashboard/offices.xlsx").status_code == 403


def test_history_lines_and_app_names_are_chinese(demo, client):
    from django.utils import translation

    from applications.models import ApplicationEvent

    event = ApplicationEvent.objects.exclude(from_status="").first()
    with translation.override("zh-hans"):
        line = str(event)
    assert event.from_status not in line and event.to_status not in line
    assert "→" in line
    client.force_login(User.objects.get(username="regional_admin"))
    page = client.get("/admin/").content.decode()
    for english in ("AUDIT LOG", "Audit log", ">Portal<", "PORTAL"):
        assert english not in page
    assert "审计日志" in page


def test_regional_warnings(demo, time_machine):
    from applications.models import ExamSession
    from offices.models import Office
    from tickets.models import DuplicatePayment

    session = ExamSession.objects.current()
    offices = list(Office.objects.all())
    for office in offices:
        office.phone, office.address_zh, office.address_en = "0991-1234567", "地址", "Address"
        office.hours_zh = "周一至周五"
    now = session.payment_closes - timezone.timedelta(hours=1)
    assert dashboard.warnings(offices, session, now) == []
    offices[3].phone = offices[4].hours_zh = ""
    missing = dashboard.offices_missing_data(offices)
    assert [office for office, _what in missing] == [offices[3], offices[4]]
    assert [str(what) for _office, what in missing][0] == str(dashboard._("phone"))

    session.fill_defaults()
    later = datetime.datetime.combine(
        session.duplicate_list_due + datetime.timedelta(days=1), datetime.time(9), tzinfo=BEIJING
    )
    found = dashboard.warnings(offices, session, later)
    assert len(found) == 2  # the duplicate-payment list, the final payment import
    DuplicatePayment.objects.filter(session=session).exists() or DuplicatePayment.objects.create(
        session=session, document_number="X", name="X", payment_codes="X", amounts="1", paid_at="X"
    )
    session.payments_final_at = later
    assert len(dashboard.warnings(offices, session, later)) == 0


def test_figures_count_the_hours_their_boundaries_cut(session_2024, urumqi, regional_admin, time_machine):
    """Today's work is summed from hourly counters; the applications due within the hour that "now" (overdue) or
    the at-risk boundary (payment close less 3 days, here not a whole hour) cuts are counted live, to the minute:
    each figure equals the rows of its changelist filter."""
    from applications.models import Application, ExamSession, rebuild_counters
    from tests.factories import submit_application

    submitted = datetime.datetime(2024, 6, 24, 9, tzinfo=BEIJING)
    early = submit_application(session_2024, urumqi, now=submitted)
    late = submit_application(session_2024, urumqi, now=submitted)
    # Due times within one hour (the review's own are at the end of a working day), then counted again.
    due = datetime.datetime(2024, 6, 26, 15, 5, tzinfo=BEIJING)
    Application.objects.filter(pk=early.pk).update(due_at=due)
    Application.objects.filter(pk=late.pk).update(due_at=due + datetime.timedelta(minutes=20))
    early.refresh_from_db()
    late.refresh_from_db()
    # Payment closes three days and ten minutes after the early one's due time: at risk is due from 15:15 on.
    ExamSession.objects.filter(pk=session_2024.pk).update(payment_closes=due + datetime.timedelta(days=3, minutes=10))
    rebuild_counters()
    session = ExamSession.objects.get(pk=session_2024.pk)
    expectations = {
        early.due_at - datetime.timedelta(minutes=1): {"overdue": 0, "due_today": 2, "undecided_before_close": 1},
        early.due_at + datetime.timedelta(minutes=1): {"overdue": 1, "due_today": 2, "undecided_before_close": 1},
        late.due_at + datetime.timedelta(seconds=1): {"overdue": 2, "due_today": 2, "undecided_before_close": 1},
    }
    for now, expected in expectations.items():
        time_machine.move_to(now, tick=False)
        figures = {f["key"]: f["count"] for f in dashboard.office_figures(regional_admin, now)["applications"]}
        assert {key: figures[key] for key in expected} == expected, now
        rows = Application.objects.all()
        assert figures["overdue"] == rows.overdue(now).count()
        assert figures["due_today"] == rows.due_today(now).count()
        assert figures["undecided_before_close"] == rows.undecided_before_close(session, now).count()
        assert figures["in_person"] == 0 and figures["payment_closing"] == 0


def test_the_demo_and_its_reset_leave_the_counters_right(demo):
    """The demo writes through submit and the engine; its reset deletes the counters with the applications."""
    call_command("rebuild_counters", "--check", stdout=io.StringIO())
    call_command("demo", "--reset", stdout=io.StringIO())
    call_command("rebuild_counters", "--check", stdout=io.StringIO())
