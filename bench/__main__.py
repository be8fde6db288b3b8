"""`make bench` (see docs/performance.md): python -m bench [--scale regional|national] [--only NAME ...]."""

import argparse
import os
import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASES = {"regional": "portal_bench", "national": "portal_bench_national"}
# Redis database of the benchmark (cache and broker): the test suite uses 15, `make run` none.
REDIS = os.environ.get("PORTAL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
# PORTAL_BENCH_DATABASE_SUFFIX: a database of one's own beside a colleague's (e.g. _h11: portal_bench_h11).
DATABASES = {scale: name + os.environ.get("PORTAL_BENCH_DATABASE_SUFFIX", "") for scale, name in DATABASES.items()}


def bench_environment(scale):
    """Production mode (DEBUG off) on loopback, with the bench database; never the developer's data."""
    env = {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASES[scale]}",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback; TLS is the proxy's job
        "PORTAL_REQUIRE_2FA": "0",  # staff are logged in with force_login; no TOTP device in the bench data
        "REDIS_URL": REDIS,
        "CELERY_BROKER_URL": REDIS,
        "PORTAL_VAR_DIR": str(BASE_DIR / "var" / "bench" / "runtime"),
        "PORTAL_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    return env


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--scale", choices=sorted(DATABASES), default=os.environ.get("SCALE") or "regional")
    parser.add_argument("--only", nargs="*", help="run only these scenario groups: admin dashboard write import export "
                        "outbox load reschedule booking")  # fmt: skip
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--regenerate", action="store_true", help="drop and generate the bench database again")
    args = parser.parse_args(argv)
    env = bench_environment(args.scale)
    from . import database

    database.ensure_database(DATABASES[args.scale], drop=args.regenerate)

    import django

    django.setup()
    from . import runner

    return runner.run(args, env)


if __name__ == "__main__":
    sys.exit(main())
