"""Every admin input has a label of its own, in Chinese (the browser tests run axe on the same pages:
tests/browser/test_accessibility.py)."""

import re

import pytest
from django.utils.html import strip_tags

pytestmark = pytest.mark.django_db


def label_for(html, input_id):
    match = re.search(rf'<label for="{input_id}">(.*?)</label>', html, re.S)
    assert match, f"no <label for={input_id}>"
    return strip_tags(match.group(1)).strip()


def test_the_changelist_search_box_says_what_it_searches(client_of, reviewer_urumqi):
    html = client_of(reviewer_urumqi).get("/admin/applications/application/").content.decode()
    assert label_for(html, "searchbar") == "搜索报名申请"
    # Django's icon-only label read "Search" in English; the words now carry the label, the icon is decoration.
    assert 'alt="Search"' not in html


def test_each_date_and_time_box_of_a_session_has_its_own_label(client_of, regional_admin, session_2024):
    html = client_of(regional_admin).get(f"/admin/applications/examsession/{session_2024.pk}/change/").content.decode()
    assert label_for(html, "id_registration_opens_0") == "日期："
    assert label_for(html, "id_registration_opens_1") == "时间："
