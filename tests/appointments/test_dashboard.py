"""The dashboard's visit figures: today's and tomorrow's visits and the free places before each in-person deadline,
in a number of queries that does not depend on the number of visits."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments import booking as rules
from appointments.models import CounterSettings
from portal import dashboard
from tests.appointments.helpers import MONDAY, at, exemption

pytestmark = pytest.mark.django_db


def figures(user, now=MONDAY):
    return dashboard.office_figures(user, now)["visits"]


def test_visit_figures_and_free_places(reviewer_urumqi, reviewer_kashgar, urumqi, kashgar):
    CounterSettings.objects.create(office=urumqi, counters=1, kinds=["exemption"])
    rules.book(exemption(urumqi), at(2024, 7, 1, 16), MONDAY)
    rules.book(exemption(urumqi), at(2024, 7, 2, 10), MONDAY)
    rules.book(exemption(kashgar), at(2024, 7, 2, 10), MONDAY)
    mine = {f["key"]: f["count"] for f in figures(reviewer_urumqi)["figures"]}
    assert mine == {"today": 1, "tomorrow": 1, "checked_in": 0, "displaced": 0}
    free = figures(reviewer_urumqi)["free"][0]
    # Monday 10:00-14:00 and 16:00-19:30 (15 slots) and Tuesday 10:00-12:00 (4 slots), one counter, 2 booked.
    assert free["at"] == at(2024, 7, 2, 12) and free["count"] == 15 + 4 - 2
    theirs = figures(reviewer_kashgar)["free"][0]["count"]
    assert theirs == 2 * (15 + 4) - 1


def test_the_query_count_does_not_depend_on_the_visits(reviewer_urumqi, urumqi):
    with CaptureQueriesContext(connection) as few:
        figures(reviewer_urumqi)
    for hour in (10, 11, 16, 17):
        rules.book(exemption(urumqi), at(2024, 7, 1, hour), MONDAY)
    with CaptureQueriesContext(connection) as more:
        figures(reviewer_urumqi)
    assert len(few) == len(more)
