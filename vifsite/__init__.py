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
