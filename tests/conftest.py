"""Shared fixtures: real SEG-Y files (../shared/data), their VDS imports made once per session,
a small synthetic survey with ground truth, and named personas."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from seismic import services, synthetic, vds
from vifsite.vif.models import AgentKey

DATA = Path(settings.BASE_DIR).parent / "shared" / "data"
REAL_FILES = ["f3", "f3_withdead", "f3_sparse", "penobscot_xl1155"]


@pytest.fixture(scope="session")
def segy_dir() -> Path:
    if not (DATA / "f3.sgy").exists():
        pytest.fail(f"The shared SEG-Y test data is missing at {DATA}")
    return DATA


@pytest.fixture(scope="session")
def vds_dir(tmp_path_factory, segy_dir) -> Path:
    """Each real file imported once with SEGYImport (the importer under test for these)."""
    out = tmp_path_factory.mktemp("vds")
    for name in REAL_FILES:
        vds.segy_import(str(segy_dir / f"{name}.sgy"), str(out / f"{name}.vds"))
    return out


@pytest.fixture(scope="session")
def small_synthetic(tmp_path_factory):
    """A small synthetic survey (40 inlines, 36 crosslines, 160 samples), its SEG-Y and VDS."""
    out = tmp_path_factory.mktemp("synthetic")
    spec = synthetic.SyntheticSpec(n_inlines=40, n_crosslines=36, n_samples=160, seed=3)
    volume = synthetic.generate(spec)
    synthetic.write_segy(volume, out / "syn.sgy")
    vds.segy_import(str(out / "syn.sgy"), str(out / "syn.vds"))
    return volume, out / "syn.sgy", out / "syn.vds"


@pytest.fixture
def register(vds_dir, db):
    def make(name: str):
        return services.survey_register_vds(url=str(vds_dir / f"{name}.vds"), name=name, restrict_to_roots=False)

    return make


@pytest.fixture
def f3(register):
    return register("f3")


@pytest.fixture
def synthetic_survey(small_synthetic, db):
    volume, _, path = small_synthetic
    survey = services.survey_register_vds(url=str(path), name="synthetic", restrict_to_roots=False)
    survey.ground_truth = volume.ground_truth
    survey.save(update_fields=["ground_truth"])
    return survey


# --- personas -----------------------------------------------------------------------------------

@pytest.fixture
def reviewer(django_user_model):
    return django_user_model.objects.create_user("rita", "rita@example.com", "pw-rita-123")


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("ada", "ada@example.com", "pw-ada-123")


@pytest.fixture
def agent_key(db):
    _, key = AgentKey.objects.create_key(name="bot", expiry_date=timezone.now() + timedelta(days=1))
    return key


@pytest.fixture
def agent(agent_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {agent_key}")
    return client


@pytest.fixture
def manager_agent(db) -> APIClient:
    _, key = AgentKey.objects.create_key(name="loader", can_manage_surveys=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()
