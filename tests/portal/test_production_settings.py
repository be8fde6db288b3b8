"""Production mode (DJANGO_DEBUG=0) is checked in a fresh process: settings are read once per process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k9Xq2-vL8#pR4tZ7!mW1&yB6^nE3sH0@cJ5uF8*aD2gT7oQ4iV9",
    "DJANGO_ALLOWED_HOSTS": "exam.example.cn",
    "DATABASE_URL": "postgres://portal@db.example.cn:5432/portal",
    "CELERY_BROKER_URL": "redis://redis.example.cn:6379/0",
    "REDIS_URL": "redis://redis.example.cn:6379/1",
    "PORTAL_VAR_DIR": "",
}


def manage(*args, env_changes):
    env = {**os.environ, **env_changes}
    # The browser tests allow sync ORM calls beside Playwright's loop; a deployment never does.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def production_env(tmp_path):
    return {**PRODUCTION_ENV, "PORTAL_VAR_DIR": str(tmp_path)}


def test_production_refuses_to_start_without_secret_key(production_env):
    env = {**production_env, "DJANGO_SECRET_KEY": ""}
    result = manage("check", env_changes=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_weak_secret_key(production_env):
    result = manage("check", env_changes={**production_env, "DJANGO_SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


def test_production_refuses_without_allowed_hosts(production_env):
    result = manage("check", env_changes={**production_env, "DJANGO_ALLOWED_HOSTS": ""})
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_check_deploy_is_clean(production_env):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env_changes=production_env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_demo_is_refused_in_production(production_env):
    result = manage("demo", env_changes=production_env)
    assert result.returncode != 0
    assert "refused in production" in result.stderr
