"""Cross-office isolation, exhaustively: staff of office A (Ürümqi, 650100) see nothing of office B (Kashgar,
653100) in any admin page, action, export, autocomplete, search, custom view or file download.

The test walks `admin.site._registry`: a model registered tomorrow is covered without touching this file.
Every name, note, message, email address, staff name, reference and uploaded file of office B carries a marker
(tests/security/office_world.py); any marker of B in any response shown to A's reviewer or manager is a leak,
and so is any change to the database after A posted B's primary keys to an action, a decision, a step or a
delete. Regional staff must see both offices (else the markers would prove nothing).

Custom admin URLs (get_urls: decisions, steps, file downloads, password change, ...) are found the way a user
finds them: every link and form on the change pages of B's objects, as regional staff see them. Each custom
URL pattern that takes an object must be reached that way, so a new one cannot slip past; each is then tried
with B's objects (all of them, or 40 spread over hundreds), by GET and by POST.
"""

import html
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import Resolver404, URLPattern, resolve, reverse
from import_export_extensions.models import ExportJob, ImportJob

from offices.roles import ROLE_PERMISSIONS
from tests.security.office_world import KASHGAR, URUMQI, build_world, office_owned, pks_of_office

pytestmark = pytest.mark.django_db

LOCAL_STAFF = ["reviewer_urumqi", "manager_urumqi"]
# Where B's data would end up if a view leaked it: every app of the portal, the audit log and the admin history.
STATE_APPS = {"applications", "tickets", "notifications", "offices", "public", "portal", "auditlog", "admin"}
STANDARD_VIEWS = ("changelist", "add", "history", "delete", "change")
# What a form of a custom view might ask for; posted to every custom URL with B's objects.
ANY_FORM = {
    "post": "yes",
    "note": "x",
    "reason": "other",
    "method": "id_card",
    "months": "60",
    "body": "x",
    "amount": "1",
    "date": "2024-07-20",
    "voucher_number": "V1",
    "id_card_seen": "on",
    "password1": "a-new-Password-42",
    "password2": "a-new-Password-42",
}
# Pages of A's own objects looked at per model (their forms' choices must not offer B's objects), and B's objects
# tried by primary key per model: every one where there are few (applications, requests, staff), an even spread
# over the rest where there are hundreds (audit entries, outbox), which one queryset scopes alike.
# Spreadsheet jobs (django-import-export-extensions) are their creator's alone, regional staff included.
OWN_JOBS = (ImportJob, ExportJob)
OWN_PAGES_PER_MODEL = 12
THEIR_OBJECTS_PER_MODEL = 40


# Which registered models to walk ------------------------------------------------------------------------------


def _role_permissions():
    return {name for names in ROLE_PERMISSIONS.values() for name in names}


def _permissions_of(model):
    opts = model._meta
    codenames = {f"{action}_{opts.model_name}" for action in opts.default_permissions}
    codenames |= {codename for codename, _label in opts.permissions}
    return {f"{opts.app_label}.{codename}" for codename in codenames}


def _label(model):
    return model._meta.label


REGISTERED = sorted(admin.site._registry, key=_label)
# Skipped: models on which no role (offices.roles.ROLE_PERMISSIONS, the only source of staff permissions) has
# any permission, so no office role can see them at all: two-factor devices (managed by the staff_otp command)
# and auth groups (one per role, synced after migrate). test_models_no_role_can_see_are_refused proves it.
NO_ROLE_SEES = [model for model in REGISTERED if not _permissions_of(model) & _role_permissions()]
WALKED = [model for model in REGISTERED if model not in NO_ROLE_SEES]


# The data set: built once for the module, rolled back at its end ----------------------------------------------


@dataclass
class World:
    offices: dict
    staff: dict
    media_root: object
    templates: dict = field(default_factory=dict)  # model -> {(url name, pk kwarg, other kwargs)}

    def markers(self, code):
        return self.offices[code].markers

    def pks(self, model, code):
        return pks_of_office(model, code, self.offices[code])


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media_root = tmp_path_factory.mktemp("isolation-uploads")
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(MEDIA_ROOT=media_root):
            offices, staff = build_world()
        yield World(offices=offices, staff=staff, media_root=media_root)
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _world_uploads(world, settings, _uploads_in_tmp):
    settings.MEDIA_ROOT = world.media_root


# Reading responses -------------------------------------------------------------------------------------------


def text_of(response, headers=True):
    """Headers and body as text; files are read, spreadsheets (zip) unpacked."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    parts = [f"{name}: {value}" for name, value in response.items()] if headers else []
    if body[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            parts += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
    else:
        parts.append(body.decode("utf-8", "replace"))
    return "\n".join(parts)


def links_of(page_url, text):
    """Every href and form action of a page, as absolute paths (query strings dropped)."""
    found = set()
    for target in re.findall(r'(?:href|action)="([^"#]*)"', text):
        path = urlsplit(urljoin(page_url, html.unescape(target))).path
        if path.startswith("/admin/"):
            found.add(path)
    return found


def context_value(response, key):
    context = getattr(response, "context", None)
    if not context:
        return None
    try:
        return context[key]
    except KeyError:
        return None


def filled(form):
    """Valid-looking data for an unknown form: every box ticked, the first real choice (CSV for a format)."""
    data = {}
    for name, form_field in form.fields.items():
        key = form.add_prefix(name)
        if isinstance(form_field, forms.BooleanField):
            data[key] = "on"
        elif isinstance(form_field, forms.ModelChoiceField):
            first = form_field.queryset.first()
            if first is not None:
                data[key] = str(first.pk)
        elif isinstance(form_field, forms.ChoiceField):
            choices = [(value, str(label)) for value, label in form_field.choices if value not in ("", None)]
            csv = [value for value, label in choices if "csv" in label.lower()]
            if choices:
                data[key] = str((csv or choices)[0][0])
        elif isinstance(form_field, forms.FileField):
            continue
        elif isinstance(form_field, forms.DateField):
            data[key] = "2024-07-20"
        elif isinstance(form_field, forms.DecimalField | forms.IntegerField):
            data[key] = "1"
        else:
            data[key] = "x"
    return data


@dataclass
class Probe:
    """A logged-in client that records every marker of the other office it is shown."""

    client: Client
    forbidden: list
    leaks: list = field(default_factory=list)
    requests: int = 0

    def fetch(self, method, url, data=None, *, allowed=(200, 302, 403, 404), exempt=(), follow=True):
        self.requests += 1
        response = getattr(self.client, method)(url, data or {}, follow=follow)
        chain = getattr(response, "redirect_chain", [])
        first = chain[0][1] if chain else response.status_code
        text = text_of(response) + "\n".join(location for location, _status in chain)
        # A searched term comes back in the search box and the links of the page: it proves nothing.
        found = [marker for marker in self.forbidden if marker in text and not any(marker in term for term in exempt)]
        if found:
            self.leaks.append(f"{method.upper()} {url} ({first}): {found[:5]}")
        if first not in allowed:
            self.leaks.append(f"{method.upper()} {url}: status {first}, expected one of {allowed}")
        return response

    def assert_clean(self):
        assert not self.leaks, "\n".join(self.leaks[:40])


def database_state():
    """Every row of every model where a view could have written B's data."""
    tables = set(connection.introspection.table_names())
    return {
        _label(model): list(model._default_manager.order_by("pk").values_list())
        for model in apps.get_models()
        if model._meta.app_label in STATE_APPS and model._meta.db_table in tables
    }


# URLs of a model's admin ----------------------------------------------------------------------------------------


def url_name(model, view):
    return f"{model._meta.app_label}_{model._meta.model_name}_{view}"


def admin_url(model, view, *args):
    return reverse(f"admin:{url_name(model, view)}", args=args)


def custom_patterns(model):
    """(object views, other views): named get_urls() patterns that are not Django's standard five, nor the pages
    of spreadsheet jobs (walked by test_the_jobs_of_others_are_not_there)."""
    standard = {url_name(model, view) for view in STANDARD_VIEWS}
    patterns = [
        pattern
        for pattern in admin.site._registry[model].get_urls()
        if isinstance(pattern, URLPattern)
        and pattern.name
        and pattern.name not in standard
        and "job_id" not in pattern.pattern.converters
    ]
    with_object = {pattern.name for pattern in patterns if pattern.pattern.converters}
    without = {pattern.name for pattern in patterns if not pattern.pattern.converters}
    return with_object, without


def object_templates(world, model, regional_client):
    """The custom object URLs of `model` that the change pages of B's objects link to, as (name, pk kwarg,
    other kwargs); learnt once, from the pages regional staff and B's own staff see (some buttons, such as a
    job's confirmation, are shown to the object's creator only)."""
    if model in world.templates:
        return world.templates[model]
    with_object, _without = custom_patterns(model)
    found = set()
    viewers = [regional_client]
    for user in world.offices[KASHGAR].staff:
        viewer = Client()
        viewer.force_login(user)
        viewers.append(viewer)
    pages = [(viewer, pk) for pk in world.pks(model, KASHGAR) for viewer in viewers]
    for viewer, pk in pages:
        page = admin_url(model, "change", pk)
        response = viewer.get(page)
        if response.status_code != 200:
            continue
        for path in links_of(page, response.content.decode()):
            try:
                match = resolve(path)
            except Resolver404:
                continue
            if match.url_name not in with_object:
                continue
            pk_kwarg = next((key for key, value in match.kwargs.items() if value == str(pk)), None)
            if pk_kwarg is not None:
                others = frozenset((key, value) for key, value in match.kwargs.items() if key != pk_kwarg)
                found.add((match.url_name, pk_kwarg, others))
    # A view whose only argument is the object (a button shown to nobody for B's data, e.g. the confirmation
    # of an import only its regional creator may confirm) is still tried with B's objects.
    linked = {name for name, *_ in found}
    for pattern in admin.site._registry[model].get_urls():
        unlinked = isinstance(pattern, URLPattern) and pattern.name in with_object - linked
        if unlinked and set(pattern.pattern.converters) == {"object_id"}:
            found.add((pattern.name, "object_id", frozenset()))
    world.templates[model] = found
    return found


def template_url(template, pk):
    name, pk_kwarg, others = template
    return reverse(f"admin:{name}", kwargs={**dict(others), pk_kwarg: pk})


def regional(world):
    client = Client()
    client.force_login(world.staff["regional_admin"])
    return client


def autocomplete_sources(model):
    """One foreign key per (target field, choice limit) pointing to `model` from any model, and every declared
    autocomplete field: Django's autocomplete view answers for any foreign key, declared or not."""
    sources, seen = [], set()
    for source in apps.get_models():
        declared = set(getattr(admin.site._registry.get(source), "autocomplete_fields", ()) or ())
        for source_field in source._meta.get_fields():
            if not (source_field.is_relation and source_field.concrete and source_field.related_model is model):
                continue
            remote = source_field.remote_field
            key = (getattr(remote, "field_name", None), repr(remote.limit_choices_to))
            if key in seen and source_field.name not in declared:
                continue
            seen.add(key)
            sources.append((source._meta.app_label, source._meta.model_name, source_field.name))
    return sources


def spread(pks, count):
    """At most `count` of the sorted `pks`, evenly spread from the first to the last."""
    if len(pks) <= count:
        return pks
    return [pks[round(index * (len(pks) - 1) / (count - 1))] for index in range(count)]


def search_terms(world, per_kind=2):
    """A few of B's names, references, document numbers, emails, payment codes and usernames."""
    return [term for terms in world.offices[KASHGAR].search_terms.values() for term in terms[:per_kind]]


# The tests ---------------------------------------------------------------------------------------------------


def test_the_walk_covers_every_registered_model():
    assert WALKED, "no admin model registered?"
    assert {_label(model) for model in NO_ROLE_SEES} <= {"auth.Group", "otp_totp.TOTPDevice"}, (
        "a new admin model no role may see: check that it holds no office's data, then extend this assertion"
    )


@pytest.mark.parametrize("model", NO_ROLE_SEES, ids=_label)
def test_models_no_role_can_see_are_refused(world, model, client_of):
    for username in (*LOCAL_STAFF, "regional_admin"):
        client = client_of(world.staff[username])
        assert client.get(admin_url(model, "changelist")).status_code == 403, username
        assert client.get(admin_url(model, "add")).status_code == 403, username


@pytest.mark.parametrize("username", LOCAL_STAFF)
@pytest.mark.parametrize("model", WALKED, ids=_label)
def test_office_a_sees_nothing_of_office_b(world, model, username, client_of):
    model_admin = admin.site._registry[model]
    theirs, ours = sorted(world.pks(model, KASHGAR)), sorted(world.pks(model, URUMQI))
    templates = object_templates(world, model, regional(world))
    with_object, without_object = custom_patterns(model)
    if theirs:
        missing = with_object - {name for name, _pk, _others in templates}
        assert not missing, (
            f"custom admin URLs of {_label(model)} not linked from any change page of office B's objects: "
            f"{sorted(missing)}; link them there (or teach this test where to find them)"
        )

    user = world.staff[username]
    probe = Probe(client_of(user), forbidden=world.markers(KASHGAR))
    before = database_state()
    changelist = admin_url(model, "changelist")

    # Changelist, search and filters
    response = probe.fetch("get", changelist)
    result = context_value(response, "cl")
    if result is not None:
        assert not {obj.pk for obj in result.result_list} & set(theirs), f"{_label(model)} lists B's objects"
    for term in search_terms(world):
        response = probe.fetch("get", f"{changelist}?{urlencode({'q': term})}", exempt=[term])
        result = context_value(response, "cl")
        if result is not None:
            assert not {obj.pk for obj in result.result_list} & set(theirs), f"search {term!r} finds B's objects"
    if office_owned(model):
        for lookup in (model.office_lookup, f"{model.office_lookup}__exact", f"{model.office_lookup}__in"):
            probe.fetch("get", f"{changelist}?{urlencode({lookup: KASHGAR})}")

    # Add form (its choices) and the views without an object: exports, summaries, queues, imports
    probe.fetch("get", admin_url(model, "add"))
    for name in sorted(without_object):
        url = reverse(f"admin:{name}")
        response = probe.fetch("get", url, allowed=(200, 302, 403, 404, 405))
        form = context_value(response, "form")
        if response.status_code == 200 and isinstance(form, forms.BaseForm) and not form.is_multipart():
            probe.fetch("post", url, filled(form))

    # Autocomplete pointing to this model, with B's names and references as terms
    for app_label, model_name, field_name in autocomplete_sources(model):
        for term in ["", *search_terms(world, per_kind=1)]:
            query = {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": term}
            response = probe.fetch("get", f"/admin/autocomplete/?{urlencode(query)}", exempt=[term])
            if response.status_code == 200:
                ids = {item["id"] for item in json.loads(response.content)["results"]}
                assert not ids & {str(pk) for pk in theirs}, f"autocomplete {query} offers B's objects"

    # B's objects by primary key: change, history, delete (GET and POST), view on site, every custom view
    content_type = ContentType.objects.get_for_model(model)
    denied = (302, 403, 404)
    for pk in spread(theirs, THEIR_OBJECTS_PER_MODEL):
        for view in ("change", "history", "delete"):
            probe.fetch("get", admin_url(model, view, pk), allowed=denied)
        probe.fetch("post", admin_url(model, "delete", pk), {"post": "yes"}, allowed=denied)
        probe.fetch("get", f"/admin/r/{content_type.pk}/{pk}/", allowed=denied, follow=False)
        for template in sorted(templates, key=repr):
            url = template_url(template, pk)
            probe.fetch("get", url, allowed=denied)
            probe.fetch("post", url, {**ANY_FORM, "assignee": user.pk}, allowed=denied)

    # Every admin action with B's primary keys, then its confirmation step when it has one
    if theirs:
        selected = {"_selected_action": [str(pk) for pk in theirs]}
        for _function, action, _description in model_admin._get_base_actions():
            response = probe.fetch("post", changelist, {"action": action, "index": "0", **selected})
            form = context_value(response, "form")
            confirm = filled(form) if isinstance(form, forms.BaseForm) else {}
            probe.fetch("post", changelist, {"action": action, "post": "yes", **ANY_FORM, **confirm, **selected})

    # A's own objects: their change pages and the custom views they link to (forms, choices, downloads)
    for pk in spread(ours, OWN_PAGES_PER_MODEL):
        page = admin_url(model, "change", pk)
        response = probe.fetch("get", page)
        if response.status_code != 200:
            continue
        for path in links_of(page, response.content.decode()):
            if path.startswith(changelist + f"{pk}/") and path != page:
                probe.fetch("get", path)

    assert database_state() == before, f"{username}'s requests with office B's objects changed the database"
    probe.assert_clean()


@pytest.mark.parametrize("model", WALKED, ids=_label)
def test_regional_staff_see_both_offices(world, model):
    client = regional(world)
    theirs, ours = world.pks(model, KASHGAR), world.pks(model, URUMQI)
    if model in OWN_JOBS:
        # A job is its creator's alone: regional staff list only their own (none here), like everyone else.
        assert theirs and ours
        response = client.get(admin_url(model, "changelist"))
        assert response.status_code == 200 and not list(response.context["cl"].result_list)
        return
    if not (theirs and ours):
        assert client.get(admin_url(model, "changelist")).status_code == 200
        return
    pages, listed = [], set()
    for page in range(50):
        response = client.get(admin_url(model, "changelist"), {"p": page + 1} if page else {})
        assert response.status_code == 200
        pages.append(text_of(response))
        cl = response.context["cl"]
        listed |= {obj.pk for obj in cl.result_list}
        if page + 1 >= cl.paginator.num_pages:
            break
    text = "\n".join(pages)
    assert listed & theirs and listed & ours, f"regional staff do not see both offices in {_label(model)}"
    assert any(marker in text for marker in world.markers(KASHGAR)), f"no marker of B in {_label(model)}'s list"
    assert any(marker in text for marker in world.markers(URUMQI)), f"no marker of A in {_label(model)}'s list"

    # Their files and forms open for regional staff, and the uploaded files themselves carry B's markers.
    downloads = 0
    for template in object_templates(world, model, client):
        for pk in theirs:
            response = client.get(template_url(template, pk))
            assert response.status_code < 500, (template, pk, response.status_code)
            if response.get("Content-Disposition", "").startswith("attachment"):
                downloads += 1
                content = text_of(response, headers=False)
                assert any(marker in content for marker in world.markers(KASHGAR)), (template, pk)
    if any(name.endswith("_file") for name, _pk, _others in object_templates(world, model, client)):
        assert downloads, f"no upload of B could be downloaded by regional staff from {_label(model)}"


def job_views():
    """Every admin URL pattern that takes a spreadsheet job: (model admin, pattern name, job model)."""
    views = []
    for model_admin in admin.site._registry.values():
        for pattern in model_admin.get_urls():
            if isinstance(pattern, URLPattern) and "job_id" in pattern.pattern.converters:
                job_model = ImportJob if "_import_job" in pattern.name else ExportJob
                views.append((model_admin, pattern.name, job_model))
    return views


def test_the_jobs_of_others_are_not_there(world, client_of):
    """The pages of a spreadsheet job (progress, report, confirmation, download) answer its creator only: 404 to
    the other office's staff and to regional staff alike, by GET and by POST, and nothing changes."""
    views = job_views()
    assert {name for _admin, name, _model in views} >= {
        "applications_payment_import_job",
        "applications_payment_import_job_confirm",
        "tickets_duplicatepayment_import_job",
        "applications_application_export_job",
        "applications_application_export_job_download",
    }
    jobs = {
        job_model: [job for job in job_model.objects.all() if job.created_by in world.offices[KASHGAR].staff]
        for job_model in (ImportJob, ExportJob)
    }
    assert all(jobs.values()), "office B has no spreadsheet job to try"

    # The creator is answered: the URLs are real, and the 404s below are the creator check's.
    creator = Client()
    answered = 0
    for _admin, name, job_model in views:
        for job in jobs[job_model]:
            creator.force_login(job.created_by)
            status = creator.get(reverse(f"admin:{name}", kwargs={"job_id": job.pk})).status_code
            assert status < 500, (name, job.pk, status)
            answered += status == 200
    assert answered, "no job page answered its creator"

    for username in (*LOCAL_STAFF, "regional_admin"):
        probe = Probe(client_of(world.staff[username]), forbidden=world.markers(KASHGAR))
        before = database_state()
        for _admin, name, job_model in views:
            for job in jobs[job_model]:
                url = reverse(f"admin:{name}", kwargs={"job_id": job.pk})
                probe.fetch("get", url, allowed=(404,))
                probe.fetch("post", url, ANY_FORM, allowed=(404,))
        assert database_state() == before, f"{username}'s requests with office B's jobs changed the database"
        probe.assert_clean()


def test_admin_index_shows_nothing_of_office_b(world, client_of):
    for username in LOCAL_STAFF:
        probe = Probe(client_of(world.staff[username]), forbidden=world.markers(KASHGAR))
        probe.fetch("get", "/admin/", allowed=(200,))
        probe.assert_clean()
