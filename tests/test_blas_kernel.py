"""Tool results replay bit for bit across machines only if OpenBLAS sums dot products in the same order on
them: the site pins its kernel class (vifsite/__init__.py). The pin must be in force in the process that
computes (numpy imported after it); tests/seismic/test_stats_baseline.py replays recorded witnesses of tools
that correlate, and numpy's SIMD level is pinned with it."""

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


def test_numpy_runs_its_avx2_code_even_where_the_cpu_has_avx512():
    """numpy's AVX-512 variants give other last bits than its AVX2 ones (anomaly detection's witnesses did not
    replay across the two): where the site pins the BLAS class it pins numpy's code to the same level. On a
    machine with AVX-512 numpy would otherwise report X86_V4 in force."""
    if vifsite.blas_coretype() != vifsite.BLAS_CORETYPE:
        pytest.skip("this CPU has no AVX2 and FMA: numpy keeps its own choice here")
    from numpy._core._multiarray_umath import __cpu_features__

    assert vifsite.numpy_features_pinned()
    assert __cpu_features__["X86_V3"] and not any(__cpu_features__.get(feature) for feature in
                                                  vifsite.NUMPY_DISABLED_FEATURES.split())
