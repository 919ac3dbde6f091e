"""Starting Django stays light: commands and task workers do not load the admin, the OpenAPI machinery or the
numerical tools until something needs them, and nothing that needs them goes without."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vifsite.settings")
import django
django.setup()
heavy = ["scipy.ndimage", "drf_spectacular.plumbing", "review.services", "seismic.tools", "vifsite.vif.kappa_page"]
loaded_at_setup = [name for name in heavy if name in sys.modules]
from django.contrib import admin
registered_before_checks = len(admin.site._registry)
from django.core import checks
problems = [str(message) for message in checks.run_checks()]
from vifsite.vif import replay
print(json.dumps({"loaded_at_setup": loaded_at_setup, "registered_before_checks": registered_before_checks,
                  "registered_after_checks": sorted(f"{m._meta.app_label}.{m._meta.model_name}"
                                                    for m in admin.site._registry),
                  "problems": problems,
                  "replayers": [t for t in ("extract_section", "detect_amplitude_anomalies")
                                if replay.replayer_of(t) is not None]}))
"""


BROKEN_ADMIN_CHECK = """
import importlib.abc, importlib.machinery, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vifsite.settings")


class BreakSurveyAdmin(importlib.abc.MetaPathFinder):
    # Breaks seismic.admin when something imports it, without importing it here.
    def find_spec(self, name, path=None, target=None):
        if name != "seismic.admin":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            module.SurveyAdmin.list_display = ("no_such_column",)
        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, BreakSurveyAdmin())
import django
django.setup()
assert "seismic.admin" not in sys.modules
from django.core import checks
print(sorted({message.id for message in checks.run_checks(tags=[os.environ["TAG"]] if os.environ["TAG"] else None)}))
"""


@pytest.mark.parametrize("tag", ["", "admin"])  # `manage.py check`, and `check --tag admin` (no URLs loaded)
def test_a_broken_model_admin_is_still_reported_by_the_checks(tmp_path, tag):
    env = {"VIFSITE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TAG": tag}
    run = subprocess.run([sys.executable, "-c", BROKEN_ADMIN_CHECK], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "admin.E108" in run.stdout


def test_django_starts_without_the_heavy_modules_and_still_checks_the_admin_and_replays(tmp_path):
    env = {"VIFSITE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["loaded_at_setup"] == []
    assert found["registered_before_checks"] == 0  # the admin modules load with the URLs or the checks
    assert {"seismic.survey", "review.escalation", "vif.witness", "vif.agentkey"} <= set(
        found["registered_after_checks"])
    assert found["problems"] == []
    assert found["replayers"] == ["extract_section", "detect_amplitude_anomalies"]  # loaded on first need
