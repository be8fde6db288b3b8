"""Admin pages measured in-process (django.test.Client, server time around client.get)."""

from urllib.parse import urlencode

from django.conf import settings
from django.test import Client
from django.urls import clear_url_caches, set_urlconf
from django.utils import timezone

from applications.models import OPEN_STATUSES, Application, Status
from offices.models import User

from .common import measure, summary

NAIVE = "/naive-admin/"
ADMIN = "/admin/"


def use_bench_urls():
    settings.ROOT_URLCONF = "bench.urls"
    clear_url_caches()
    set_urlconf(None)


def client_for(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def get(client, url):
    def request():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
        return response

    return request


def page(client, path, query, runs, naive_runs=3, naive_query=None):
    ours = summary(measure(get(client, ADMIN + path + query), runs))
    if not naive_runs:
        return ours
    plain_query = query if naive_query is None else naive_query
    plain = summary(measure(get(client, NAIVE + path + plain_query), naive_runs, warmup=min(1, naive_runs - 1)))
    ours["naive_ms"] = plain["median_ms"]
    ours["naive_ratio"] = ours["median_ms"] / plain["median_ms"]
    return ours


def overdue_lookup():
    """The overdue filter as URL lookups of a plain admin (it has no custom filter)."""
    now = timezone.localtime().isoformat(sep=" ", timespec="seconds")  # with its offset: no naive-time warning
    return "?" + urlencode({"status__in": ",".join(OPEN_STATUSES), "due_at__lt": now})


def scenarios(meta, runs):
    """(name, figures, target_ms, extra check or None, note)"""
    use_bench_urls()
    reviewer = client_for("bench_reviewer_large")
    regional = client_for("bench_regional")
    showcase = Application.objects.select_related("candidate").get(pk=meta["showcase_id"])
    number = showcase.candidate.document_number
    results = []

    figures = page(reviewer, "applications/application/", "", runs)
    # "Queries fixed": the same count for a page of 100 rows and for a page of one or two rows.
    few = summary(measure(get(reviewer, f"{ADMIN}applications/application/?q={number}"), 1, warmup=1))
    figures["queries_few_rows"] = few["queries"]
    results.append(("changelist_reviewer_large_office", figures, 150, figures["queries"] == few["queries"]))
    results.append(("changelist_regional", page(regional, "applications/application/", "", runs), 250, None))
    results.append(
        (
            "changelist_regional_overdue",
            page(regional, "applications/application/", "?due=overdue", runs, naive_query=overdue_lookup()),
            150,
            None,
        )
    )
    results.append(
        ("changelist_regional_search_document", page(regional, "applications/application/", f"?q={number}", runs),
         150, None)
    )  # fmt: skip
    results.append(("ticket_inbox_regional", page(regional, "tickets/ticket/", "", runs), 200, None))
    change = f"applications/application/{showcase.pk}/change/"
    # The plain change form renders a <select> of every candidate: one run is enough to see it, and at the
    # national scale (1.7 million candidates, minutes and gigabytes for one page) none.
    figures = page(reviewer, change, "", runs, naive_runs=0 if meta["applications"] > 1_000_000 else 1)
    events = showcase.events.count()
    uploads = sum(1 for f in ("insurance_pdf", "degree_certificate", "passport_copy") if getattr(showcase, f))
    figures["history_rows"], figures["uploads"] = events, uploads
    results.append(("application_change_view", figures, 120, events >= 20 and uploads == 3))
    assert showcase.status in (Status.SUBMITTED, Status.APPROVED)
    return results
