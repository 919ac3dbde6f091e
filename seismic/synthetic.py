"""A synthetic post-stack seismic volume with planted, known features. Plain numpy; no Django.

Layered reflectors over a dome, a normal fault with a known throw, a bright spot (a patch of one
reflector with its reflection coefficient multiplied), a sinuous channel incised into one
reflector, a Ricker wavelet and Gaussian noise; optionally (off by default, so seeded volumes stay as
they were) a flat spot under the bright spot. Every planted feature is returned in survey
coordinates (inline, crossline, time in ms), so detectors can be scored against it.

Positions are given as fractions of the survey extent, so one spec scales to any size.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Dome:
    center_il: float = 0.5  # fraction of the inline extent
    center_xl: float = 0.4
    radius: float = 0.35  # fraction of the larger horizontal extent (Gaussian sigma)
    height_ms: float = 60.0  # uplift at the crest


@dataclass
class Fault:
    crossline_at_top: float = 0.72  # fraction of the crossline extent where the fault meets the top
    slope_traces_per_100ms: float = 3.0  # the plane moves this many crosslines per 100 ms of depth
    throw_ms: float = 24.0  # vertical offset of every reflector across the fault (downthrown side: larger crossline)


@dataclass
class BrightSpot:
    center_il: float = 0.5
    center_xl: float = 0.4
    radius_il: float = 0.10  # fraction of the inline extent
    radius_xl: float = 0.10
    horizon: int = 4  # index of the reflector it sits on
    strength: float = 4.0  # multiplier of that reflector's coefficient inside the patch


@dataclass
class FlatSpot:
    """A fluid contact under the bright spot: a flat, strong, positive reflection at one time that cuts
    across the (dipping) reflectors wherever the bright spot's reflector lies above it, as a gas-water
    contact does at the base of a gas sand."""

    below_ms: float = 20.0  # the contact's time below the bright spot's reflector at the patch's centre
    coefficient: float = 0.25  # positive: gas over brine is a hardening downwards
    extent: float = 0.8  # fraction of the bright spot's radii the contact may reach


@dataclass
class Channel:
    horizon: int = 7
    center_xl: float = 0.25  # mean crossline position, fraction of the extent
    meander: float = 0.06  # amplitude of the meander, fraction of the crossline extent
    wavelength: float = 0.6  # meander wavelength, fraction of the inline extent
    width_traces: float = 6.0
    depth_ms: float = 12.0  # incision at the axis
    fill_coefficient: float = -0.12  # reflection coefficient of the channel fill's top


@dataclass
class SyntheticSpec:
    n_inlines: int = 200
    n_crosslines: int = 200
    n_samples: int = 500
    sample_interval_ms: float = 4.0
    first_inline: int = 1000
    first_crossline: int = 2000
    first_sample_ms: float = 0.0
    seed: int = 7
    n_layers: int = 12
    peak_frequency_hz: float = 25.0
    noise: float = 0.05  # noise std relative to the signal RMS
    amplitude_scale: float = 1000.0
    regional_dip_ms: float = 20.0  # deepening across the crossline extent
    dome: Dome | None = field(default_factory=Dome)
    fault: Fault | None = field(default_factory=Fault)
    bright_spot: BrightSpot | None = field(default_factory=BrightSpot)
    channel: Channel | None = field(default_factory=Channel)
    flat_spot: FlatSpot | None = None  # needs a bright spot; off by default

    def inline_numbers(self) -> np.ndarray:
        return self.first_inline + np.arange(self.n_inlines)

    def crossline_numbers(self) -> np.ndarray:
        return self.first_crossline + np.arange(self.n_crosslines)

    def times_ms(self) -> np.ndarray:
        return self.first_sample_ms + np.arange(self.n_samples) * self.sample_interval_ms


def ricker(peak_hz: float, dt_s: float) -> np.ndarray:
    half = int(np.ceil(1.5 / peak_hz / dt_s))
    t = np.arange(-half, half + 1) * dt_s
    a = (np.pi * peak_hz * t) ** 2
    return (1 - 2 * a) * np.exp(-a)


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """A smooth random field in [-1, 1]: a few long-wavelength cosines."""
    il = np.linspace(0, 1, shape[0])[:, None]
    xl = np.linspace(0, 1, shape[1])[None, :]
    field_ = np.zeros(shape)
    for _ in range(3):
        kx, ky = rng.uniform(0.3, 1.5, 2) * scale
        phase = rng.uniform(0, 2 * np.pi)
        field_ += np.cos(2 * np.pi * (kx * il + ky * xl) + phase)
    return field_ / 3


@dataclass
class Synthetic:
    spec: SyntheticSpec
    data: np.ndarray  # (inline, crossline, sample) float32
    ground_truth: dict[str, Any]


def generate(spec: SyntheticSpec) -> Synthetic:
    rng = np.random.default_rng(spec.seed)
    ni, nx, ns = spec.n_inlines, spec.n_crosslines, spec.n_samples
    dt = spec.sample_interval_ms
    t_end = spec.first_sample_ms + (ns - 1) * dt
    il_idx = np.arange(ni)[:, None].astype(float)
    xl_idx = np.arange(nx)[None, :].astype(float)
    il_numbers, xl_numbers = spec.inline_numbers(), spec.crossline_numbers()
    features: list[dict[str, Any]] = []

    span = t_end - spec.first_sample_ms
    base_times = np.sort(
        np.linspace(spec.first_sample_ms + 0.15 * span, spec.first_sample_ms + 0.85 * span, max(spec.n_layers, 1))
        + rng.uniform(-0.02, 0.02, max(spec.n_layers, 1)) * span
    )[: spec.n_layers]
    coefficients = rng.uniform(0.06, 0.16, spec.n_layers) * rng.choice([-1.0, 1.0], spec.n_layers)

    structure = np.broadcast_to(xl_idx / max(nx - 1, 1) * spec.regional_dip_ms, (ni, nx)).copy()
    if spec.dome is not None:
        d = spec.dome
        sigma = d.radius * max(ni, nx)
        r2 = (il_idx - d.center_il * (ni - 1)) ** 2 + (xl_idx - d.center_xl * (nx - 1)) ** 2
        structure -= d.height_ms * np.exp(-r2 / (2 * sigma**2))
        features.append({
            "kind": "dome",
            "center": {"inline": float(il_numbers[0] + d.center_il * (ni - 1)),
                       "crossline": float(xl_numbers[0] + d.center_xl * (nx - 1))},
            "sigma_traces": float(sigma),
            "height_ms": d.height_ms,
        })

    reflectivity = np.zeros((ni, nx, ns), dtype=np.float64)
    i_grid, x_grid = np.meshgrid(np.arange(ni), np.arange(nx), indexing="ij")
    horizon_times: list[np.ndarray] = []
    for h in range(spec.n_layers):
        times = base_times[h] + structure
        coefficient = coefficients[h] * (1 + 0.08 * _smooth_field(rng, (ni, nx), 1.0))
        if spec.fault is not None:
            f = spec.fault
            fault_xl = f.crossline_at_top * (nx - 1) + (times - spec.first_sample_ms) * f.slope_traces_per_100ms / 100
            times = np.where(x_grid > fault_xl, times + f.throw_ms, times)
        if spec.bright_spot is not None and spec.bright_spot.horizon == h:
            b = spec.bright_spot
            inside = _ellipse(b, ni, nx, i_grid, x_grid)
            coefficient = np.where(inside, coefficient * b.strength, coefficient)
        if spec.channel is not None and spec.channel.horizon == h:
            c = spec.channel
            distance = _channel_distance(c, ni, nx, i_grid, x_grid)
            in_channel = distance < c.width_traces / 2
            incision = c.depth_ms * (1 - (distance / (c.width_traces / 2)) ** 2)
            times = np.where(in_channel, times + incision, times)
            coefficient = np.where(in_channel, c.fill_coefficient, coefficient)
        horizon_times.append(times)
        position = (times - spec.first_sample_ms) / dt
        k = np.floor(position).astype(int)
        w = position - k
        ok = (k >= 0) & (k < ns - 1)
        reflectivity[i_grid[ok], x_grid[ok], k[ok]] += coefficient[ok] * (1 - w[ok])
        reflectivity[i_grid[ok], x_grid[ok], k[ok] + 1] += coefficient[ok] * w[ok]
    flat = _flat_spot(spec, horizon_times, i_grid, x_grid)
    if flat is not None:
        contact_ms, under = flat
        position = (contact_ms - spec.first_sample_ms) / dt
        k0 = int(np.floor(position))
        w0 = position - k0
        if 0 <= k0 < ns - 1:
            reflectivity[i_grid[under], x_grid[under], k0] += spec.flat_spot.coefficient * (1 - w0)  # type: ignore[union-attr]
            reflectivity[i_grid[under], x_grid[under], k0 + 1] += spec.flat_spot.coefficient * w0  # type: ignore[union-attr]

    wavelet = ricker(spec.peak_frequency_hz, dt / 1000.0)
    half = len(wavelet) // 2
    nfft = 1 << int(np.ceil(np.log2(ns + len(wavelet))))
    wavelet_f = np.fft.rfft(np.roll(np.pad(wavelet, (0, nfft - len(wavelet))), -half))
    data = np.empty((ni, nx, ns), dtype=np.float32)
    for start in range(0, ni, 32):
        block = np.fft.irfft(np.fft.rfft(reflectivity[start:start + 32], n=nfft, axis=2) * wavelet_f, n=nfft, axis=2)
        data[start:start + 32] = block[:, :, :ns]
    signal_rms = float(np.sqrt(np.mean(data.astype(np.float64) ** 2))) if spec.n_layers else 1.0
    if spec.noise > 0:
        data += (rng.standard_normal(data.shape) * spec.noise * signal_rms).astype(np.float32)
    data *= spec.amplitude_scale

    wavelet_half_ms = half * dt
    if spec.fault is not None:
        f = spec.fault
        xl_top = f.crossline_at_top * (nx - 1)
        xl_bottom = xl_top + (t_end - spec.first_sample_ms) * f.slope_traces_per_100ms / 100
        features.append({
            "kind": "fault",
            "type": "normal",
            "throw_ms": f.throw_ms,
            "downthrown_side": "higher crossline numbers",
            "strike": "along the inline direction (the plane cuts every inline)",
            "inline_range": [int(il_numbers[0]), int(il_numbers[-1])],
            "plane": [
                {"time_ms": spec.first_sample_ms, "crossline": float(xl_numbers[0] + xl_top)},
                {"time_ms": t_end, "crossline": float(xl_numbers[0] + xl_bottom)},
            ],
        })
    if spec.bright_spot is not None and spec.bright_spot.horizon < spec.n_layers:
        b = spec.bright_spot
        inside = _ellipse(b, ni, nx, i_grid, x_grid)
        t_in = horizon_times[b.horizon][inside]
        il_in, xl_in = i_grid[inside], x_grid[inside]
        features.append({
            "kind": "bright_spot",
            "strength": b.strength,
            "horizon": b.horizon,
            "center": {"inline": float(il_numbers[0] + b.center_il * (ni - 1)),
                       "crossline": float(xl_numbers[0] + b.center_xl * (nx - 1)),
                       "time_ms": float(np.median(t_in))},
            "inline_range": [int(il_numbers[il_in.min()]), int(il_numbers[il_in.max()])],
            "crossline_range": [int(xl_numbers[xl_in.min()]), int(xl_numbers[xl_in.max()])],
            "time_range_ms": [float(t_in.min() - wavelet_half_ms), float(t_in.max() + wavelet_half_ms)],
        })
    if flat is not None:
        contact_ms, under = flat
        il_in, xl_in = i_grid[under], x_grid[under]
        features.append({
            "kind": "flat_spot",
            "time_ms": contact_ms,
            "coefficient": spec.flat_spot.coefficient,  # type: ignore[union-attr]
            "center": {"inline": float(il_numbers[0] + np.mean(il_in)),
                       "crossline": float(xl_numbers[0] + np.mean(xl_in)), "time_ms": contact_ms},
            "inline_range": [int(il_numbers[il_in.min()]), int(il_numbers[il_in.max()])],
            "crossline_range": [int(xl_numbers[xl_in.min()]), int(xl_numbers[xl_in.max()])],
            "time_range_ms": [contact_ms - wavelet_half_ms, contact_ms + wavelet_half_ms],
        })
    if spec.channel is not None and spec.channel.horizon < spec.n_layers:
        c = spec.channel
        centre = _channel_centre(c, ni, nx, np.arange(ni))
        t_axis = horizon_times[c.horizon][np.arange(ni), np.clip(np.round(centre).astype(int), 0, nx - 1)]
        features.append({
            "kind": "channel",
            "horizon": c.horizon,
            "width_traces": c.width_traces,
            "depth_ms": c.depth_ms,
            "path": [{"inline": int(il_numbers[i]), "crossline": float(xl_numbers[0] + centre[i]),
                      "time_ms": float(t_axis[i])} for i in range(0, ni, max(1, ni // 40))],
            "time_range_ms": [float(t_axis.min() - wavelet_half_ms), float(t_axis.max() + wavelet_half_ms)],
        })
    ground_truth = {
        "generator": "vifsite synthetic",
        "spec": _spec_dict(spec),
        "survey": {
            "inline": [int(il_numbers[0]), int(il_numbers[-1]), 1],
            "crossline": [int(xl_numbers[0]), int(xl_numbers[-1]), 1],
            "sample_ms": [spec.first_sample_ms, t_end, dt],
        },
        "horizons": [{"index": h, "base_time_ms": float(base_times[h] + structure.mean()),
                      "reflection_coefficient": float(coefficients[h])} for h in range(spec.n_layers)],
        "features": features,
    }
    return Synthetic(spec=spec, data=data, ground_truth=ground_truth)


def _ellipse(b: BrightSpot, ni: int, nx: int, i_grid: np.ndarray, x_grid: np.ndarray) -> np.ndarray:
    ri, rx = max(b.radius_il * (ni - 1), 1.0), max(b.radius_xl * (nx - 1), 1.0)
    return ((i_grid - b.center_il * (ni - 1)) / ri) ** 2 + ((x_grid - b.center_xl * (nx - 1)) / rx) ** 2 <= 1.0


def _spec_dict(spec: SyntheticSpec) -> dict[str, Any]:
    out = asdict(spec)
    if spec.flat_spot is None:
        del out["flat_spot"]  # the ground truth of volumes without one stays as it was
    return out


def _flat_spot(spec: SyntheticSpec, horizon_times: list[np.ndarray], i_grid: np.ndarray,
               x_grid: np.ndarray) -> tuple[float, np.ndarray] | None:
    """The contact's time and the traces it spans: inside the bright spot's patch shrunk to
    ``extent``, where the bright spot's reflector lies above the contact. None without a flat spot."""
    b, f = spec.bright_spot, spec.flat_spot
    if f is None or b is None or b.horizon >= spec.n_layers:
        return None
    ni, nx = spec.n_inlines, spec.n_crosslines
    shrunk = BrightSpot(center_il=b.center_il, center_xl=b.center_xl, radius_il=b.radius_il * f.extent,
                        radius_xl=b.radius_xl * f.extent, horizon=b.horizon, strength=b.strength)
    top = horizon_times[b.horizon]
    ci = int(np.clip(round(b.center_il * (ni - 1)), 0, ni - 1))
    cx = int(np.clip(round(b.center_xl * (nx - 1)), 0, nx - 1))
    contact_ms = float(top[ci, cx] + f.below_ms)
    under = _ellipse(shrunk, ni, nx, i_grid, x_grid) & (top < contact_ms)
    return (contact_ms, under) if under.any() else None


def _channel_centre(c: Channel, ni: int, nx: int, il: np.ndarray) -> np.ndarray:
    phase = 2 * np.pi * il / max(c.wavelength * (ni - 1), 1.0)
    return c.center_xl * (nx - 1) + c.meander * (nx - 1) * np.sin(phase)


def _channel_distance(c: Channel, ni: int, nx: int, i_grid: np.ndarray, x_grid: np.ndarray) -> np.ndarray:
    return np.abs(x_grid - _channel_centre(c, ni, nx, i_grid))


def write_segy(synthetic: Synthetic, path: Path) -> None:
    """Write the volume as a SEG-Y rev 1 file (IEEE floats, inline-sorted, inline at byte 189,
    crossline at 193, CDP X/Y at 181/185 in centimetres with scalar −100)."""
    import segyio

    spec = synthetic.spec
    seg = segyio.spec()
    seg.iline, seg.xline = 189, 193
    seg.format = 5
    seg.sorting = segyio.TraceSortingFormat.INLINE_SORTING
    seg.samples = spec.times_ms()
    seg.ilines = spec.inline_numbers()
    seg.xlines = spec.crossline_numbers()
    dt_us = int(round(spec.sample_interval_ms * 1000))
    origin_x, origin_y, spacing = 600000.0, 6000000.0, 25.0
    with segyio.create(str(path), seg) as f:
        f.bin.update({segyio.BinField.Interval: dt_us, segyio.BinField.Samples: spec.n_samples,
                      segyio.BinField.Format: 5, segyio.BinField.SEGYRevision: 0x0100})
        trace = 0
        for i, il in enumerate(seg.ilines):
            for x, xl in enumerate(seg.xlines):
                f.header[trace] = {
                    segyio.TraceField.INLINE_3D: int(il),
                    segyio.TraceField.CROSSLINE_3D: int(xl),
                    segyio.TraceField.CDP_X: int(round((origin_x + x * spacing) * 100)),
                    segyio.TraceField.CDP_Y: int(round((origin_y + i * spacing) * 100)),
                    segyio.TraceField.SourceGroupScalar: -100,
                    segyio.TraceField.TRACE_SAMPLE_COUNT: spec.n_samples,
                    segyio.TraceField.TRACE_SAMPLE_INTERVAL: dt_us,
                    segyio.TraceField.DelayRecordingTime: int(round(spec.first_sample_ms)),
                }
                trace += 1
            f.iline[int(il)] = synthetic.data[i]


def write_ground_truth(synthetic: Synthetic, path: Path) -> None:
    path.write_text(json.dumps(synthetic.ground_truth, indent=2))
