"""Office scoping with one user per office role: the queryset method and the admin base class."""

import pytest

from offices.models import Office, User

pytestmark = pytest.mark.django_db


def test_for_user_by_role(staff):
    assert list(Office.objects.for_user(staff["reviewer_urumqi"]).values_list("code", flat=True)) == ["650100"]
    assert list(Office.objects.for_user(staff["manager_urumqi"]).values_list("code", flat=True)) == ["650100"]
    assert list(Office.objects.for_user(staff["reviewer_kashgar"]).values_list("code", flat=True)) == ["653100"]
    assert Office.objects.for_user(staff["regional_admin"]).count() == 15


def test_deny_by_default(staff):
    anonymous = User(username="nobody")  # unsaved, no office, not staff
    assert not Office.objects.for_user(anonymous).exists()
    assert not Office.objects.for_user(None).exists()
    inactive = staff["reviewer_urumqi"]
    inactive.is_active = False
    assert not Office.objects.for_user(inactive).exists()
    officeless = User.objects.create(username="officeless", is_staff=True, role="reviewer")
    assert not User.objects.for_user(officeless).exists()


def test_staff_changelist_shows_own_office_only(client_of, staff):
    html = client_of(staff["manager_urumqi"]).get("/admin/offices/user/").content.decode()
    assert "reviewer_urumqi" in html
    assert "reviewer_kashgar" not in html
    html = client_of(staff["regional_admin"]).get("/admin/offices/user/").content.decode()
    assert "reviewer_urumqi" in html and "reviewer_kashgar" in html


def test_other_office_objects_are_404(client_of, staff):
    client = client_of(staff["manager_urumqi"])
    kashgar = staff["reviewer_kashgar"]
    assert client.get(f"/admin/offices/user/{kashgar.pk}/change/").status_code == 404
    assert client.get(f"/admin/offices/user/{kashgar.pk}/history/").status_code == 404
    assert client.get("/admin/offices/office/653100/change/").status_code == 404
    assert client.get("/admin/offices/office/650100/change/").status_code == 200


def test_reviewer_sees_only_own_office_in_office_changelist(client_of, staff):
    html = client_of(staff["reviewer_urumqi"]).get("/admin/offices/office/").content.decode()
    assert "乌鲁木齐市财政局会计科" in html
    assert "喀什地区财政局会计科" not in html


def test_reviewer_cannot_change_offices_or_staff(client_of, staff):
    client = client_of(staff["reviewer_urumqi"])
    response = client.post("/admin/offices/office/650100/change/", {"name_zh": "changed"})
    assert response.status_code == 403
    assert client.get("/admin/offices/user/").status_code == 403
    assert Office.objects.get(code="650100").name_zh != "changed"


def test_regional_staff_edit_office_contact(client_of, regional_admin):
    client = client_of(regional_admin)
    office = Office.objects.get(code="653100")
    data = {
        "name_zh": office.name_zh,
        "name_en": office.name_en,
        "address_zh": "喀什市某路1号",
        "address_en": "1 Some Road, Kashgar",
        "phone": "0998-0000000",
        "email": "kj@example.com",
        "hours_zh": office.hours_zh,
        "hours_en": office.hours_en,
    }
    response = client.post("/admin/offices/office/653100/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    office.refresh_from_db()
    assert office.phone == "0998-0000000"


def test_office_choices_are_scoped_on_staff_form(client_of, staff, settings):
    # A manager cannot add staff; a regional admin picks any office.
    assert client_of(staff["manager_urumqi"]).get("/admin/offices/user/add/").status_code == 403
    form = client_of(staff["regional_admin"]).get("/admin/offices/user/add/").context["adminform"].form
    assert form.fields["office"].queryset.count() == 15


def test_foreign_key_choices_follow_the_scope(rf, staff):
    from django.contrib import admin

    from notifications.models import OutboxMessage

    model_admin = admin.site._registry[OutboxMessage]
    request = rf.get("/")
    request.user = staff["reviewer_kashgar"]
    field = model_admin.formfield_for_foreignkey(OutboxMessage._meta.get_field("office"), request)
    assert list(field.queryset.values_list("code", flat=True)) == ["653100"]
