"""The bench database: created when missing, migrated, filled once per scale and reused (marker table)."""

import json
import time

import psycopg

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
MARKER = "bench_marker"


def ensure_database(name, drop=False):
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"[bench] created database {name}", flush=True)


def drop_database(name):
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def read_marker(connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [MARKER])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(f"SELECT scale, meta FROM {MARKER}")  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        return None
    # Django's connection reads jsonb as text (JSONField decodes it itself).
    return row[0], json.loads(row[1]) if isinstance(row[1], str) else row[1]


def write_marker(connection, scale, meta):
    from psycopg.types.json import Jsonb

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (scale text, meta jsonb, created_at timestamptz)")
        cursor.execute(f"DELETE FROM {MARKER}")  # noqa: S608
        cursor.execute(f"INSERT INTO {MARKER} VALUES (%s, %s, now())", [scale, Jsonb(meta)])  # noqa: S608


def prepare(scale, database_name):
    """Migrate; generate unless the marker says this database holds the data of `scale`. Returns the meta."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    marker = read_marker(connection)
    if marker and marker[0] == scale:
        print(f"[bench] reusing {database_name} ({scale}: {marker[1]['applications']} applications)", flush=True)
        return marker[1]
    if marker or _has_rows(connection):
        # Half-generated or of another scale: start again from an empty database.
        connection.close()
        drop_database(database_name)
        ensure_database(database_name)
        call_command("migrate", verbosity=0, interactive=False)
    from django.utils import timezone

    from .generate import generate

    started = time.monotonic()
    meta = generate(scale, timezone.now())
    meta["generated_seconds"] = round(time.monotonic() - started, 1)
    write_marker(connection, scale, meta)
    print(f"[bench] generated {scale} data in {meta['generated_seconds']} s", flush=True)
    return meta


def _has_rows(connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM applications_application)")
        return cursor.fetchone()[0]
