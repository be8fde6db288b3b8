"""The applications changelist: columns, masking, flags, filters, search and a fixed number of queries."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications.models import Application
from tests.applications.admin_helpers import CHANGELIST, application, at, clone_applications, staff_client
from tests.factories import approve

pytestmark = pytest.mark.django_db


def rows(response):
    """References shown in the result table."""
    return {app.reference for app in response.context["cl"].result_list}


def test_columns_show_the_masked_number_never_the_full_one(client, session_2024, urumqi, reviewer_urumqi):
    app = application(session_2024, urumqi, qualification="master")
    number = app.candidate.document_number
    html = staff_client(client, reviewer_urumqi).get(CHANGELIST).content.decode()
    assert app.reference in html
    assert app.candidate.masked_document_number in html
    assert f"{number[:6]}********{number[-4:]}" in html
    assert number not in html
    assert "张三" in html
    assert "Master&#x27;s degree" in html
    assert "Submitted, waiting for review" in html


def test_flags_are_badges_with_text_young_in_red(client, session_2024, urumqi, reviewer_urumqi):
    young = application(
        session_2024, urumqi, identity_changes={"birth_date": datetime.date(1998, 7, 3)}, ce_public_credits=10
    )
    application(session_2024, urumqi, identity_changes={"birth_date": datetime.date(1998, 7, 2)})
    response = staff_client(client, reviewer_urumqi).get(CHANGELIST)
    html = response.content.decode()
    assert young.flag_young and young.flag_continuing_education
    assert html.count('class="flag flag-red" title="young candidate">young</span>') == 1
    assert '<span class="flag flag-amber" title="continuing education short">credits</span>' in html
    # The colour comes from a stylesheet, the badge always carries its word.
    assert "applications/admin.css" in html


def test_status_flag_and_qualification_filters(client, session_2024, urumqi, reviewer_urumqi):
    young = application(session_2024, urumqi, identity_changes={"birth_date": datetime.date(1999, 1, 1)})
    master = application(session_2024, urumqi, qualification="master")
    approved = application(session_2024, urumqi)
    approve(approved, reviewer_urumqi)
    client = staff_client(client, reviewer_urumqi)
    assert rows(client.get(CHANGELIST, {"flag": "flag_young"})) == {young.reference}
    assert rows(client.get(CHANGELIST, {"qualification": "master"})) == {master.reference}
    assert rows(client.get(CHANGELIST, {"status": "approved"})) == {approved.reference}
    assert rows(client.get(CHANGELIST)) == {young.reference, master.reference, approved.reference}


def test_due_today_and_overdue_filters(client, session_2024, urumqi, reviewer_urumqi):
    early = application(session_2024, urumqi, now=at(2024, 6, 20, 9))  # due 06-24 23:59:59
    later = application(session_2024, urumqi, now=at(2024, 6, 24, 9))  # due 06-26 23:59:59
    decided = application(session_2024, urumqi, now=at(2024, 6, 20, 9))
    approve(decided, reviewer_urumqi, now=at(2024, 6, 21, 9))
    with time_machine.travel(at(2024, 6, 26, 10), tick=False):
        client = staff_client(client, reviewer_urumqi)
        assert rows(client.get(CHANGELIST, {"due": "overdue"})) == {early.reference}
        assert rows(client.get(CHANGELIST, {"due": "today"})) == {later.reference}
        html = client.get(CHANGELIST).content.decode()
    assert html.count('<span class="overdue">') == 1
    assert '<span class="overdue">2024-06-24 23:59 (overdue)</span>' in html


def test_office_filter_and_column_for_regional_staff_only(client, session_2024, urumqi, kashgar, staff):
    application(session_2024, urumqi)
    response = staff_client(client, staff["reviewer_urumqi"]).get(CHANGELIST)
    assert "office" not in {
        spec.parameter_name for spec in response.context["cl"].filter_specs if hasattr(spec, "parameter_name")
    }
    assert "office__code__exact" not in response.content.decode()
    response = staff_client(client, staff["regional_admin"]).get(CHANGELIST)
    assert "office__code__exact" in response.content.decode()


def test_search_by_full_document_number_finds_exactly_that_row_masked(client, session_2024, urumqi, reviewer_urumqi):
    wanted = application(session_2024, urumqi)
    other = application(session_2024, urumqi)
    number = wanted.candidate.document_number
    response = staff_client(client, reviewer_urumqi).get(CHANGELIST, {"q": number.lower()})
    assert rows(response) == {wanted.reference}
    # The search box and sort links echo what was typed; the results show the number masked.
    results = response.content.decode().split("<tbody>")[1].split("</tbody>")[0]
    results = re.sub(r'href="[^"]*"', "", results)
    assert number not in results
    assert wanted.candidate.masked_document_number in results
    assert other.reference not in results


def test_search_by_reference_and_by_name(client, session_2024, urumqi, reviewer_urumqi):
    wanted = application(session_2024, urumqi, identity_changes={"name": "古丽娜尔"})
    application(session_2024, urumqi)
    client = staff_client(client, reviewer_urumqi)
    spaced = f"{wanted.reference[:5]} {wanted.reference[5:].lower()}"
    assert rows(client.get(CHANGELIST, {"q": spaced})) == {wanted.reference}
    assert rows(client.get(CHANGELIST, {"q": "丽娜"})) == {wanted.reference}
    # Letters only fit the passport pattern, yet are far more often a name.
    latin = application(session_2024, urumqi, identity_changes={"name": "Aigerim Nurlanovna"})
    assert rows(client.get(CHANGELIST, {"q": "aigerim"})) == {latin.reference}


def test_search_never_reaches_another_office(client, session_2024, urumqi, kashgar, reviewer_urumqi):
    theirs = application(session_2024, kashgar)
    client = staff_client(client, reviewer_urumqi)
    assert rows(client.get(CHANGELIST, {"q": theirs.candidate.document_number})) == set()
    assert rows(client.get(CHANGELIST, {"q": theirs.reference})) == set()


def count_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    return len(queries), len(response.context["cl"].result_list)


@pytest.mark.parametrize("role", ["reviewer_urumqi", "regional_admin"])
def test_changelist_runs_the_same_queries_for_10_and_100_rows(client, session_2024, urumqi, staff, role):
    first = application(session_2024, urumqi, identity_changes={"birth_date": datetime.date(1999, 1, 1)})
    clone_applications(first, 9)
    client = staff_client(client, staff[role])
    client.get(CHANGELIST)  # warm up: content types, permissions
    ten = count_queries(client)
    clone_applications(first, 90)
    hundred = count_queries(client)
    assert (ten[1], hundred[1]) == (10, 100)
    assert ten[0] == hundred[0]


def test_no_add_and_no_edit_in_the_admin(client, session_2024, urumqi, reviewer_urumqi):
    app = application(session_2024, urumqi)
    client = staff_client(client, reviewer_urumqi)
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    response = client.post(f"{CHANGELIST}{app.pk}/change/", {"status": "approved"})
    assert response.status_code == 403
    assert Application.objects.get(pk=app.pk).status == "submitted"
    assert client.post(f"{CHANGELIST}{app.pk}/delete/").status_code == 403


def test_row_links_carry_the_filters_back_to_the_filtered_list(client, session_2024, urumqi, reviewer_urumqi):
    app = application(session_2024, urumqi)
    client = staff_client(client, reviewer_urumqi)
    html = client.get(CHANGELIST, {"status__exact": "submitted", "q": app.reference}).content.decode()
    # As Django's own changelist writes them (the change view's "Save" returns to this list).
    filters = "_changelist_filters=status__exact%3Dsubmitted%26q%3D" + app.reference
    assert f'href="/admin/applications/application/{app.pk}/change/?{filters}"' in html
    plain = client.get(CHANGELIST).content.decode()
    assert f'href="/admin/applications/application/{app.pk}/change/"' in plain
