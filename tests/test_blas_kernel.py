"""Tool results replay bit for bit across machines only if OpenBLAS sums dot products in the same order on
them: the site pins its kernel class (vifsite/__init__.py). The pin must be in force in the process that
computes (numpy imported after it); tests/seismic/test_stats_baseline.py replays recorded witnesses of tools
that correlate."""

from __future__ import annotations

import importlib
import os

import pytest

import vifsite


def _blas_architecture() -> str | None:
    from threadpoolctl import threadpool_info

    return next((pool.get("architecture") for pool in threadpool_info() if pool.get("internal_api") == "openblas"),
                None)


def test_the_blas_kernel_class_is_pinned_in_the_process_that_computes():
    if vifsite.blas_coretype() is None:
        pytest.skip("this CPU has no AVX2 and FMA: OpenBLAS keeps its own kernel choice here")
    assert os.environ["OPENBLAS_CORETYPE"] == vifsite.blas_coretype() == "Haswell"
    assert _blas_architecture() == "Haswell"


def test_a_platforms_other_choice_gives_way_to_the_sites_and_an_operator_may_name_one(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "SkylakeX")
    monkeypatch.delenv("VIFSITE_BLAS_CORETYPE", raising=False)
    importlib.reload(vifsite)
    if vifsite.blas_coretype() is not None:
        assert os.environ["OPENBLAS_CORETYPE"] == "Haswell"
    monkeypatch.setenv("VIFSITE_BLAS_CORETYPE", "Zen")
    importlib.reload(vifsite)
    assert os.environ["OPENBLAS_CORETYPE"] == "Zen"
    monkeypatch.delenv("VIFSITE_BLAS_CORETYPE")
    importlib.reload(vifsite)  # back as at start-up
