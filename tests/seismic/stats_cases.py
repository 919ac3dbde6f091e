"""Sections whose statistics were recorded (stats_baseline.json) by the statistics code as it was
before it was made faster, so the fast code can be held to the same numbers bit for bit.

Each case is a recipe, not an array: a seeded random array (PCG64, stable across numpy versions)
or a section of a seeded synthetic volume, cut to sub-ranges and with traces marked dead. The
baseline also records the array's hash, so a change of the generator shows as such, not as a
change of the statistics. Only numpy and ``seismic.synthetic`` are imported here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seismic import synthetic

Case = dict[str, Any]

SMALL = {"n_inlines": 60, "n_crosslines": 50, "n_samples": 200, "seed": 5}
LARGE = {"n_inlines": 160, "n_crosslines": 140, "n_samples": 751, "seed": 9}

CASES: list[Case] = [
    # Seeded random sections: sizes odd and even, ties, constants, a single value, dead traces.
    {"name": "random inline 400x500", "source": "normal", "shape": [400, 500], "seed": 1, "vertical": True,
     "interval": 0.004},
    {"name": "random 1000x1000", "source": "normal", "shape": [1000, 1000], "seed": 2, "vertical": True,
     "interval": 0.004},
    {"name": "random odd 37x129 with dead traces", "source": "normal", "shape": [37, 129], "seed": 3,
     "vertical": True, "interval": 0.002, "dead_every": 4},
    {"name": "random depth 20x75", "source": "normal", "shape": [20, 75], "seed": 4, "vertical": True,
     "interval": None},
    {"name": "integer ties 81x63", "source": "integers", "shape": [81, 63], "seed": 5, "vertical": True,
     "interval": 0.004},
    {"name": "integer ties timeslice 33x47", "source": "integers", "shape": [33, 47], "seed": 6, "vertical": False,
     "dead_every": 5},
    {"name": "constant 9x40", "source": "constant", "shape": [9, 40], "value": 2.5, "vertical": True,
     "interval": 0.004},
    {"name": "zero mean 2x2", "source": "values", "values": [[-1.0, 1.0], [1.0, -1.0]], "vertical": True,
     "interval": 0.004},
    {"name": "single value", "source": "values", "values": [[3.25]], "vertical": False},
    {"name": "single trace of 3 samples", "source": "values", "values": [[1.0, -2.0, 0.5]], "vertical": True,
     "interval": 0.004},
    {"name": "all dead", "source": "normal", "shape": [5, 30], "seed": 7, "vertical": True, "interval": 0.004,
     "dead_every": 1},
    {"name": "zeros with signal 50x300", "source": "muted", "shape": [50, 300], "seed": 8, "vertical": True,
     "interval": 0.004},
    {"name": "signed zeros 31x40", "source": "signed_zeros", "shape": [31, 40], "seed": 10, "vertical": True,
     "interval": 0.004},
    {"name": "wide dynamic range 64x256", "source": "lognormal", "shape": [64, 256], "seed": 9, "vertical": True,
     "interval": 0.001},
]

for spec, label in ((SMALL, "small"), (LARGE, "large")):
    CASES += [
        {"name": f"synthetic {label} inline", "source": "synthetic", "spec": spec, "kind": "inline", "index": 17,
         "vertical": True, "interval": 0.004},
        {"name": f"synthetic {label} crossline", "source": "synthetic", "spec": spec, "kind": "crossline",
         "index": 23, "vertical": True, "interval": 0.004},
        {"name": f"synthetic {label} timeslice", "source": "synthetic", "spec": spec, "kind": "timeslice",
         "index": 101, "vertical": False},
        {"name": f"synthetic {label} inline with ranges", "source": "synthetic", "spec": spec, "kind": "inline",
         "index": 30, "first": [5, 44], "second": [20, 187], "vertical": True, "interval": 0.004},
        {"name": f"synthetic {label} crossline with dead traces", "source": "synthetic", "spec": spec,
         "kind": "crossline", "index": 12, "vertical": True, "interval": 0.004, "dead_every": 3},
        {"name": f"synthetic {label} timeslice with ranges and dead traces", "source": "synthetic", "spec": spec,
         "kind": "timeslice", "index": 150, "first": [3, 56], "second": [0, 40], "vertical": False,
         "dead_every": 7},
    ]


def build(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """The section (float32) and its live mask for ``case``."""
    source = case["source"]
    if source == "synthetic":
        volume = synthetic.generate(synthetic.SyntheticSpec(**case["spec"])).data
        index = case["index"]
        data = {"inline": lambda: volume[index], "crossline": lambda: volume[:, index, :],
                "timeslice": lambda: volume[:, :, index]}[case["kind"]]()
        first, second = case.get("first"), case.get("second")
        if first:
            data = data[first[0]:first[1] + 1]
        if second:
            data = data[:, second[0]:second[1] + 1]
    elif source == "values":
        data = np.asarray(case["values"], dtype=np.float32)
    else:
        rng = np.random.default_rng(case.get("seed", 0))
        shape = tuple(case["shape"])
        if source == "normal":
            data = rng.normal(10.0, 300.0, size=shape)
        elif source == "integers":
            data = rng.integers(-6, 7, size=shape)
        elif source == "constant":
            data = np.full(shape, case["value"])
        elif source == "muted":  # a top mute: exact zeros over the first third of every trace
            data = rng.normal(0.0, 1.0, size=shape)
            data[:, : shape[1] // 3] = 0.0
        elif source == "signed_zeros":  # most samples +0.0 or -0.0 (the median falls on a zero)
            data = (rng.integers(-1, 2, size=shape) * (rng.random(shape) < 0.2)).astype(np.float64)
            data = np.where(rng.random(shape) < 0.5, data, -data)
        elif source == "lognormal":
            data = rng.lognormal(0.0, 4.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        else:
            raise ValueError(source)
    data = np.ascontiguousarray(data, dtype=np.float32)
    shape = data.shape[:1] if case["vertical"] else data.shape
    live = np.ones(shape, dtype=bool)
    every = case.get("dead_every")
    if every:
        live.reshape(-1)[::every] = False
        data[~live] = 0.0  # dead traces read back as zeros
    return data, live
