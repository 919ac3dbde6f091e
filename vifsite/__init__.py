"""vifsite: seismic surveys, the Verifiable Intelligence Framework and human review on one Django site."""

import os

__version__ = "0.2.0"

# OpenBLAS picks its kernels for the CPU it runs on, and kernels of different CPU classes sum a dot product in
# different orders: the last bits of a correlation (compare_to_reference, the fault and channel checks) then
# differ, and a witness written on one machine would not replay on another. The site pins the kernel class to
# Haswell (AVX2 and FMA: every x86-64 server CPU of the last ten years runs it), so its machines compute the
# same bits; VIFSITE_BLAS_CORETYPE names another class for a whole site. OpenBLAS reads the setting when it
# loads, so this runs before numpy is first imported (this package is imported first by manage.py, the ASGI
# application, the task workers and the tests). CPUs without AVX2 and FMA keep OpenBLAS's own choice.
BLAS_CORETYPE = "Haswell"
BLAS_CPU_FLAGS = frozenset(("avx2", "fma"))


def _cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def blas_coretype() -> str | None:
    """The OpenBLAS kernel class the site computes with, or None where OpenBLAS chooses."""
    chosen = os.environ.get("VIFSITE_BLAS_CORETYPE", "").strip()
    if chosen:
        return chosen
    return BLAS_CORETYPE if BLAS_CPU_FLAGS <= _cpu_flags() else None


_coretype = blas_coretype()
if _coretype:
    os.environ["OPENBLAS_CORETYPE"] = _coretype

# numpy picks, when it loads, the widest SIMD code of its ufuncs, sorts and reductions the CPU runs (AVX2 and
# FMA, "X86_V3", or AVX-512, "X86_V4" and newer), and those variants do not all give the same last bits: six
# anomaly-detection witnesses written on machines with AVX-512 gave other hashes on one without. Where the BLAS
# class is pinned, numpy's code is pinned to the same level, unless the operator chose numpy's features
# themselves (NPY_ENABLE_CPU_FEATURES or NPY_DISABLE_CPU_FEATURES).
NUMPY_DISABLED_FEATURES = "X86_V4 AVX512_ICL AVX512_SPR"


def numpy_features_pinned() -> bool:
    """Whether this process asks numpy for its AVX2 and FMA code only (set before numpy loads)."""
    return os.environ.get("NPY_DISABLE_CPU_FEATURES") == NUMPY_DISABLED_FEATURES


if _coretype == BLAS_CORETYPE and not (os.environ.get("NPY_ENABLE_CPU_FEATURES")
                                       or os.environ.get("NPY_DISABLE_CPU_FEATURES")):
    os.environ["NPY_DISABLE_CPU_FEATURES"] = NUMPY_DISABLED_FEATURES
