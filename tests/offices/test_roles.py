import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from offices.models import Office, User
from offices.roles import ROLE_PERMISSIONS, sync_role_groups

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_groups_synced_after_migrate_with_every_listed_permission():
    for role, names in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        have = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert have == set(names), role


def test_sync_is_idempotent_and_repairs_hand_edits():
    reviewer = Group.objects.get(name="reviewer")
    reviewer.permissions.clear()
    sync_role_groups()
    sync_role_groups()
    assert reviewer.permissions.count() == len(ROLE_PERMISSIONS["reviewer"])
    assert Group.objects.filter(name="reviewer").count() == 1


def test_permissions_come_from_the_role(staff):
    reviewer, manager, regional = staff["reviewer_urumqi"], staff["manager_urumqi"], staff["regional_admin"]
    assert reviewer.has_perm("notifications.view_outboxmessage")
    assert not reviewer.has_perm("offices.view_user")
    assert manager.has_perm("offices.view_user")
    assert not manager.has_perm("offices.import_office")
    assert regional.has_perm("offices.import_office")
    assert regional.has_perm("applications.change_examsession")
    assert not reviewer.has_perm("applications.change_examsession")


def test_role_must_match_office():
    user = User(username="x", office=Office.objects.get(code="650100"), role="regional", is_staff=True)
    with pytest.raises(Exception, match="regional"):
        user.full_clean(exclude=["password"])


def test_create_staff_from_environment(monkeypatch):
    monkeypatch.setenv("NEW_STAFF_PASSWORD", "a-long-enough-password-9")
    call_command(
        "create_staff",
        "reviewer_hotan",
        "--office",
        "653200",
        "--role",
        "reviewer",
        "--password-env",
        "NEW_STAFF_PASSWORD",
    )
    user = User.objects.get(username="reviewer_hotan")
    assert (user.office_id, user.role, user.is_staff) == ("653200", "reviewer", True)
    assert user.check_password("a-long-enough-password-9")
    assert user.has_perm("notifications.view_outboxmessage")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--office", "659999", "--role", "reviewer"], "Unknown office '659999'"),
        (["--office", "650100", "--role", "boss"], "Unknown role 'boss'"),
        (["--office", "650100", "--role", "regional"], "regional office"),
    ],
)
def test_create_staff_clear_errors(monkeypatch, args, message):
    monkeypatch.setenv("NEW_STAFF_PASSWORD", "a-long-enough-password-9")
    with pytest.raises(CommandError, match=message):
        call_command("create_staff", "someone", *args, "--password-env", "NEW_STAFF_PASSWORD")
    assert not User.objects.filter(username="someone").exists()


def test_create_staff_refuses_weak_or_missing_password(monkeypatch):
    monkeypatch.setenv("WEAK", "12345")
    with pytest.raises(CommandError, match="too short"):
        call_command("create_staff", "someone", "--office", "650100", "--role", "reviewer", "--password-env", "WEAK")
    with pytest.raises(CommandError, match="not set"):
        call_command("create_staff", "someone", "--office", "650100", "--role", "reviewer", "--password-env", "NOPE")
