"""A second generator of vertical sections with planted bright spots, written apart from
``seismic.synthetic`` so the anomaly detector is measured on data it was not shaped on.

Each section is a layered earth with its own dip and gentle undulation, weak and strong reflectors,
a low-level random reflectivity between them, one of several wavelets (Ricker of 15 to 40 Hz, an
Ormsby band-pass, or a minimum-phase wavelet) and white noise of 2 to 20 % of the signal RMS. One to
three bright spots are planted per section, each on a weak or a strong reflector, 3 to 7 times that
reflector's coefficient, as an ellipse (a tapered segment), a lens (a brightened top over a base of
opposite polarity that closes at both ends) or an irregular patch (a ragged, patchy segment).

Everything is seeded: ``section(seed)`` is the same section for the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DT_S = 0.004
SHAPES = ("ellipse", "lens", "irregular")
WAVELETS = ("ricker", "ormsby", "minimum_phase")


@dataclass(frozen=True)
class PlantedSpot:
    traces: tuple[int, int]  # inclusive trace range
    samples: tuple[int, int]  # inclusive sample range the spot's reflection occupies (wavelet included)
    shape: str
    strength: float  # multiplier of the host reflector's coefficient
    host: str  # "weak" or "strong" reflector


@dataclass(frozen=True)
class Section:
    data: np.ndarray  # (traces, samples)
    spots: list[PlantedSpot]
    wavelet: str
    dip_samples_per_trace: float
    noise: float


def ricker(peak_hz: float, dt_s: float = DT_S) -> np.ndarray:
    half = int(np.ceil(1.5 / peak_hz / dt_s))
    t = np.arange(-half, half + 1) * dt_s
    a = (np.pi * peak_hz * t) ** 2
    return (1 - 2 * a) * np.exp(-a)


def ormsby(f1: float, f2: float, f3: float, f4: float, dt_s: float = DT_S, length_s: float = 0.2) -> np.ndarray:
    """The zero-phase trapezoidal band-pass f1–f2–f3–f4 Hz, tapered by a Hann window."""
    half = int(round(length_s / 2 / dt_s))
    t = np.arange(-half, half + 1) * dt_s

    def term(f: float) -> np.ndarray:
        return (np.pi * f) ** 2 * np.sinc(f * t) ** 2

    w = (term(f4) - term(f3)) / (f4 - f3) - (term(f2) - term(f1)) / (f2 - f1)
    w = w * np.hanning(len(w))
    return w / np.abs(w).max()


def minimum_phase(peak_hz: float, dt_s: float = DT_S, n: int = 256) -> np.ndarray:
    """The minimum-phase wavelet with a Ricker's amplitude spectrum (homomorphic: the real cepstrum
    folded onto positive quefrencies), cut where it has decayed, starting at its onset."""
    spectrum = np.abs(np.fft.fft(ricker(peak_hz, dt_s), n)) + 1e-6
    cepstrum = np.fft.ifft(np.log(spectrum)).real
    fold = np.zeros(n)
    fold[0] = cepstrum[0]
    fold[1:n // 2] = 2 * cepstrum[1:n // 2]
    fold[n // 2] = cepstrum[n // 2]
    w = np.fft.ifft(np.exp(np.fft.fft(fold))).real
    keep = int(np.nonzero(np.abs(w) > 0.02 * np.abs(w).max())[0].max()) + 1
    w = w[:keep]
    return w / np.abs(w).max()


def _wavelet(rng: np.random.Generator, kind: str) -> tuple[np.ndarray, int]:
    """A wavelet and the index of time zero in it."""
    if kind == "ricker":
        w = ricker(float(rng.uniform(15, 40)))
        return w, len(w) // 2
    if kind == "ormsby":
        low, high = float(rng.uniform(4, 10)), float(rng.uniform(35, 55))
        w = ormsby(low, low + 6, high, high + 15)
        return w, len(w) // 2
    return minimum_phase(float(rng.uniform(15, 35))), 0


def _support(wavelet: np.ndarray, zero: int) -> tuple[int, int]:
    """Samples before and after time zero where the wavelet's envelope is above a fifth of its peak."""
    big = np.nonzero(np.abs(wavelet) >= 0.2 * np.abs(wavelet).max())[0]
    return zero - int(big.min()), int(big.max()) - zero


def section(seed: int, *, traces: int = 240, samples: int = 300) -> Section:
    rng = np.random.default_rng(seed)
    dip = float(rng.uniform(-0.4, 0.4))  # samples per trace
    noise = float(rng.uniform(0.02, 0.2))
    kind = WAVELETS[seed % len(WAVELETS)]
    x = np.arange(traces, dtype=float)
    undulation_period = float(rng.uniform(80, 300))
    undulation = float(rng.uniform(0, 6)) * np.sin(2 * np.pi * x / undulation_period + rng.uniform(0, 2 * np.pi))
    tilt = dip * (x - traces / 2)

    # Reflectors every 14 to 30 samples, alternating at random between weak and strong.
    tops: list[float] = []
    t = float(rng.uniform(-abs(dip) * traces / 2, 10)) + 20
    while t < samples - 20 + abs(dip) * traces / 2:
        tops.append(t)
        t += float(rng.uniform(14, 30))
    n_layers = len(tops)
    strong = rng.random(n_layers) < 0.4
    magnitude = np.where(strong, rng.uniform(0.12, 0.2, n_layers), rng.uniform(0.03, 0.06, n_layers))
    coefficient = magnitude * rng.choice([-1.0, 1.0], n_layers)
    times = [top + tilt + undulation for top in tops]  # sample position of each reflector on each trace

    wavelet, zero = _wavelet(rng, kind)
    before, after = _support(wavelet, zero)
    # Spots: one to three, laterally apart, each on a reflector that stays inside the section there.
    spots: list[PlantedSpot] = []
    gains: list[tuple[int, np.ndarray]] = []  # (layer, per-trace multiplier)
    lens_bases: list[tuple[int, np.ndarray, np.ndarray]] = []  # (layer, base position, base coefficient)
    wanted = int(rng.integers(1, 4))
    taken = np.zeros(traces, bool)
    attempts = 0
    while len(spots) < wanted and attempts < 200:
        attempts += 1
        width = int(rng.integers(16, 50))
        start = int(rng.integers(5, traces - width - 5))
        span = slice(max(0, start - 12), min(traces, start + width + 12))
        if taken[span].any():
            continue
        host = "strong" if len(spots) % 2 == int(rng.integers(0, 2)) else "weak"
        layers = [h for h in range(n_layers) if strong[h] == (host == "strong")
                  and times[h][start:start + width].min() > 30 and times[h][start:start + width].max() < samples - 40
                  and all(h != g for g, _ in gains)]
        if not layers:
            continue
        layer = int(rng.choice(layers))
        shape = SHAPES[int(rng.integers(0, len(SHAPES)))]
        strength = float(rng.uniform(3, 7))
        u = (x - start - (width - 1) / 2) / (width / 2)  # −1 … 1 across the spot
        inside = np.abs(u) <= 1
        if shape == "irregular":
            ragged = inside & (rng.random(traces) > 0.08)  # a few traces at the old amplitude
            patchy = np.interp(x, np.linspace(0, traces, 12), rng.uniform(0.7, 1.0, 12))
            gain = np.where(ragged, 1 + (strength - 1) * patchy, 1.0)
        else:
            gain = np.where(inside, strength, 1.0)
            edge = inside & (np.abs(u) > 0.8)  # a short taper at the ends
            gain = np.where(edge, 1 + (strength - 1) * (1 - np.abs(u)) / 0.2, gain)
        gains.append((layer, gain))
        top = times[layer]
        bottom = top.copy()
        if shape == "lens":
            thickness = float(rng.uniform(4, 10)) * np.sqrt(np.clip(1 - u ** 2, 0, None))
            bottom = top + thickness
            lens_bases.append((layer, bottom, np.where(inside, -coefficient[layer] * strength * 0.8, 0.0)))
        first, last = int(np.nonzero(inside)[0].min()), int(np.nonzero(inside)[0].max())
        spots.append(PlantedSpot(
            traces=(first, last),
            samples=(max(0, int(np.floor(top[inside].min())) - before),
                     min(samples - 1, int(np.ceil(bottom[inside].max())) + after)),
            shape=shape, strength=strength, host=host))
        taken[span] = True

    reflectivity = np.zeros((traces, samples))
    rows = np.arange(traces)

    def add(position: np.ndarray, value: np.ndarray) -> None:
        k = np.floor(position).astype(int)
        w = position - k
        ok = (k >= 0) & (k < samples - 1)
        np.add.at(reflectivity, (rows[ok], k[ok]), value[ok] * (1 - w[ok]))
        np.add.at(reflectivity, (rows[ok], k[ok] + 1), value[ok] * w[ok])

    for h in range(n_layers):
        # Each reflector's strength wanders a little along it, as real ones do.
        wander = 1 + 0.1 * np.interp(x, np.linspace(0, traces, 8), rng.uniform(-1, 1, 8))
        value = coefficient[h] * wander
        for layer, gain in gains:
            if layer == h:
                value = value * gain
        add(times[h], value)
    for _, position, value in lens_bases:
        add(position, value)
    # Fine layering between the reflectors: weak, laterally continuous, dipping with them.
    reach = int(np.ceil(np.abs(tilt + undulation).max())) + 1
    fine = rng.normal(0, 0.008, samples + 2 * reach)
    for j in range(traces):
        start = reach - int(round(tilt[j] + undulation[j]))
        reflectivity[j] += fine[start:start + samples]

    data = np.stack([np.convolve(r, wavelet)[zero:zero + samples] for r in reflectivity])
    rms = float(np.sqrt(np.mean(data ** 2)))
    data = data + rng.normal(0, noise * rms, data.shape)
    return Section(data=(data * 1000).astype(np.float32), spots=spots, wavelet=kind,
                   dip_samples_per_trace=dip, noise=noise)
