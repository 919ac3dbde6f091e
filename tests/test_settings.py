"""Production settings: the documented production environment passes Django's deployment checks at
WARNING level, and secrets an attacker could guess stop the site at start-up."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

# The production environment the README documents (with a real secret and host in their place).
PRODUCTION = {
    "VIFSITE_SECRET_KEY": secrets.token_urlsafe(50),
    "VIFSITE_ALLOWED_HOSTS": "vifsite.example.com",
    "VIFSITE_CSRF_TRUSTED_ORIGINS": "https://vifsite.example.com",
    "VIFSITE_SITE_URL": "https://vifsite.example.com",
    "VIFSITE_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
    "VIFSITE_TRUSTED_PROXY_COUNT": "1",
}


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VIFSITE_") and k != "DATABASE_URL"}
    return subprocess.run([sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args],
                          env={**clean, "DJANGO_SETTINGS_MODULE": "vifsite.settings", "VIFSITE_DATA_DIR": str(tmp_path),
                               **env}, capture_output=True, text=True, timeout=120)


def test_the_documented_production_environment_passes_the_deployment_checks(tmp_path):
    result = run(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = run(tmp_path, "shell", "-v", "0", "-c",
                "from django.conf import settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
                "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)", **PRODUCTION)
    assert shown.stdout.split("\n")[0] == "False True 31536000 True True ('HTTP_X_FORWARDED_PROTO', 'https')"


def test_the_local_demo_mode_is_what_the_deployment_checks_warn_about(tmp_path):
    result = run(tmp_path, "check", "--deploy", "--fail-level", "WARNING", VIFSITE_HTTPS="false")
    assert result.returncode != 0
    for code in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert code in result.stderr + result.stdout


@pytest.mark.parametrize("secret", ["change-me", "short-but-random-8f3k2", "a" * 80,
                                    "django-insecure-" + secrets.token_urlsafe(50)])
def test_a_placeholder_or_weak_secret_refuses_to_start(tmp_path, secret):
    result = run(tmp_path, "check", VIFSITE_SECRET_KEY=secret)
    assert result.returncode != 0
    assert "VIFSITE_SECRET_KEY is not a usable secret key" in result.stderr


def test_a_malformed_proxy_header_setting_refuses_to_start(tmp_path):
    result = run(tmp_path, "check", VIFSITE_SECURE_PROXY_SSL_HEADER="https")
    assert result.returncode != 0 and "X-Forwarded-Proto: https" in result.stderr


def test_processes_starting_together_on_a_new_data_directory_share_one_whole_secret(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VIFSITE_") and k != "DATABASE_URL"}
    env = {**clean, "DJANGO_SETTINGS_MODULE": "vifsite.settings", "VIFSITE_DATA_DIR": str(tmp_path / "new")}
    code = "from django.conf import settings; print(settings.SECRET_KEY, settings.VIFSITE_WEBHOOK_SECRET)"
    starting = [subprocess.Popen([sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    answers = [process.communicate(timeout=120) for process in starting]
    assert all(process.returncode == 0 for process in starting), [err for _, err in answers]
    assert len({out for out, _ in answers}) == 1
    key, webhook = answers[0][0].split()
    assert len(key) >= 50 and len(webhook) >= 32
    secrets = sorted(p.name for p in (tmp_path / "new").iterdir() if "secret" in p.name)
    assert secrets == ["secret_key", "webhook_secret"]
