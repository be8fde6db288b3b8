"""Load scenarios against gunicorn on 127.0.0.1 (wrk, bounded in time), and the outbox through one Celery worker.

Every process started here is stopped here, by its own pid.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction

from applications.models import Application

WORKERS = 5  # gunicorn sync workers on 2 cores: 2 × cores + 1
THREADS, CONNECTIONS, DURATION = 2, 20, int(os.environ.get("BENCH_LOAD_SECONDS", "30"))
LUA = Path(__file__).resolve().parent / "lua"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_env(env):
    return {
        **os.environ,
        **env,
        # Rate limits are off for the benchmark's own server only; production defaults are unchanged.
        "PORTAL_RATELIMIT_ENABLE": "0",
        # Persistent database connections per worker (a deployment setting, see docs/performance.md).
        "DATABASE_CONN_MAX_AGE": "60",
    }


def start(command, env, log_path):
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def csrf_pair():
    """A cookie secret and a masked form token that Django's CSRF check accepts (as a browser holds them)."""
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    secret = _get_new_csrf_string()
    return secret, _mask_cipher_secret(secret)


def wrk(url, script, args=(), duration=DURATION, connections=CONNECTIONS):
    command = ["wrk", "-t", str(THREADS), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
               "-s", str(script), url, "--", *args]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=True).stdout  # noqa: S603
    match = re.search(r"^BENCH (\{.*\})$", output, re.M)
    if not match:
        raise RuntimeError(f"wrk printed no figures:\n{output}")
    figures = json.loads(match.group(1))
    figures["wrk"] = f"wrk -t{THREADS} -c{connections} -d{duration}s"
    return figures


def wait_until_up(url, process, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start; see var/bench/gunicorn.log")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer in time")


def lookup_pairs(path, count=2000):
    rows = (
        Application.objects.filter(session__is_current=True)
        .order_by("?")
        .values_list("reference", "candidate__document_number")[:count]
    )
    path.write_text("".join(f"{ref} {number}\n" for ref, number in rows))


def pdf_of_200_kb(path):
    """A real PDF (pypdf parses it) of about 200 KB: one page with an incompressible image-like stream."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    stream = DecodedStreamObject()
    stream.set_data(b"% " + os.urandom(100 * 1024).hex().encode()[: 200 * 1024] + b"\n")
    page[NameObject("/Contents")] = writer._add_object(stream)
    with open(path, "wb") as out:
        writer.write(out)
    return path.stat().st_size


def load_scenarios(results, meta, env):
    if not shutil.which("wrk"):
        print("[bench] wrk is missing (apt-get install -y wrk): load scenarios skipped")
        return
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(settings.BASE_DIR) / "var" / "bench" / "gunicorn.log"
    command = [str(Path(settings.BASE_DIR) / ".venv" / "bin" / "gunicorn"), "portal.wsgi", "--bind",
               f"127.0.0.1:{port}", "--workers", str(WORKERS), "--log-level", "warning"]  # fmt: skip
    first_new = Application.objects.order_by("-pk").values_list("pk", flat=True).first()
    gunicorn = start(command, serve_env(env), log_path)
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        wait_until_up(f"{base}/zh-hans/", gunicorn)
        server = f"gunicorn {WORKERS} sync workers on 127.0.0.1:{port}"
        secret, token = csrf_pair()

        figures = wrk(f"{base}/zh-hans/", LUA / "get.lua")
        results.add("public_home_page", {"per_s": figures["per_s"], "p95_ms": figures["p95_ms"],
                    "errors": figures["errors"], "target_per_s": 300, "ok": figures["per_s"] >= 300 and
                    not figures["errors"]}, note=f"{server}; {figures['wrk']}")  # fmt: skip

        pairs = work / "pairs.txt"
        lookup_pairs(pairs)
        figures = wrk(f"{base}/zh-hans/applications/status/", LUA / "lookup.lua", [str(pairs), secret, token])
        ok = figures["per_s"] >= 200 and figures["p95_ms"] <= 100 and not figures["errors"]
        results.add("status_lookup", {"per_s": figures["per_s"], "p95_ms": figures["p95_ms"], "errors":
                    figures["errors"], "target_per_s": 200, "target_p95_ms": 100, "ok": ok},
                    note=f"{server}; {figures['wrk']}; POST reference + document number, 302 to the status page")  # fmt: skip  # noqa: E501

        pdf = work / "shebao.pdf"
        size = pdf_of_200_kb(pdf)
        figures = wrk(f"{base}/zh-hans/applications/apply/", LUA / "submit.lua", [str(pdf), secret, token],
                      connections=CONNECTIONS)  # fmt: skip
        ok = figures["per_s"] >= 40 and figures["p95_ms"] <= 500 and not figures["errors"]
        results.add("application_submit_pdf", {"per_s": figures["per_s"], "p95_ms": figures["p95_ms"],
                    "errors": figures["errors"], "pdf_kb": round(size / 1024), "target_per_s": 40,
                    "target_p95_ms": 500, "ok": ok}, note=f"{server}; {figures['wrk']}; multipart POST, 302 expected")  # fmt: skip  # noqa: E501
    finally:
        stop(gunicorn)
        shutil.rmtree(work, ignore_errors=True)
        remove_submitted(first_new)


def remove_submitted(last_generated_pk):
    """The applications the submit scenario created (and their rows): the bench data stays as generated."""
    from django.db import connection

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM applications_applicationevent WHERE application_id > %s", [last_generated_pk])
        cursor.execute(
            "DELETE FROM notifications_outboxmessage WHERE dedup_key LIKE 'application:%%' AND created_at > "  # noqa: S608
            "(SELECT created_at FROM bench_marker)"
        )
        cursor.execute(
            "DELETE FROM auditlog_logentry WHERE object_pk IN "
            "(SELECT id::text FROM applications_application WHERE id > %s)",
            [last_generated_pk],
        )
        cursor.execute("SELECT candidate_id FROM applications_application WHERE id > %s", [last_generated_pk])
        candidates = [row[0] for row in cursor.fetchall()]
        cursor.execute("DELETE FROM applications_application WHERE id > %s", [last_generated_pk])
        cursor.execute(
            "DELETE FROM applications_candidate c WHERE c.id = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM applications_application a WHERE a.candidate_id = c.id) "
            "AND NOT EXISTS (SELECT 1 FROM tickets_ticket t WHERE t.candidate_id = c.id)",
            [candidates],
        )


def wait_for_ready(worker, log_path, seconds=60):
    """Celery logs "ready." once the worker consumes: the timing starts after that, not at its start-up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError("the worker exited at start; see var/bench/worker.log")
        if "ready." in log_path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise RuntimeError("the worker was not ready in time; see var/bench/worker.log")


def outbox_sending(results, env, count=2_000):
    """One Celery worker (solo pool, Redis broker, file email backend to a temporary directory) sends `count`
    queued emails; timed from the enqueue's commit until the last one is marked sent."""
    from notifications.models import OutboxMessage, enqueue_emails
    from portal.celery import app as celery_app

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    mail_dir = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    worker_env = {**serve_env(env), "EMAIL_FILE_PATH": str(mail_dir),
                  "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"}  # fmt: skip
    log_path = Path(settings.BASE_DIR) / "var" / "bench" / "worker.log"
    command = [str(Path(settings.BASE_DIR) / ".venv" / "bin" / "celery"), "-A", "portal", "worker", "-P", "solo",
               "-Q", queue, "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
               "--loglevel", "INFO"]  # fmt: skip
    worker = start(command, worker_env, log_path)
    prefix = f"bench-send:{queue}:"
    try:
        wait_for_ready(worker, log_path)
        celery_app.conf.task_default_queue = queue
        messages = [
            OutboxMessage(dedup_key=f"{prefix}{n}", recipient=f"c{n}@example.com", language="zh-hans",
                          template="message", context={"subject": "缴费提醒", "body": "请在缴费截止前完成缴费。" * 5})
            for n in range(count)
        ]  # fmt: skip
        with transaction.atomic():
            enqueue_emails(messages)
            started = time.perf_counter()  # the sends are handed to the broker at commit
        rows = OutboxMessage.objects.filter(dedup_key__startswith=prefix)
        deadline = time.monotonic() + 120
        while rows.filter(status=OutboxMessage.Status.SENT).count() < count and time.monotonic() < deadline:
            if worker.poll() is not None:
                raise RuntimeError("the worker exited; see var/bench/worker.log")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        sent = rows.filter(status=OutboxMessage.Status.SENT).count()
        files = len(list(mail_dir.iterdir()))
    finally:
        stop(worker)
        OutboxMessage.objects.filter(dedup_key__startswith=prefix).delete()
        shutil.rmtree(mail_dir, ignore_errors=True)
    per_s = sent / elapsed
    results.add(
        "outbox_sending",
        {"per_s": per_s, "sent": sent, "seconds": elapsed, "mail_files": files, "target_per_s": 200,
         "ok": per_s >= 200 and sent == count},
        note="celery worker -P solo (one process) on Redis, file email backend",
    )  # fmt: skip
