"""Section pictures: a colormap lookup table into Pillow, axes annotated in survey numbers.

matplotlib's figure machinery is several times slower than this, so only its colormaps are used.
The picture is written as a palette PNG (one byte per pixel; Pillow filters and compresses three
bytes per pixel of an RGB image several times slower): the palette holds the colormap, with the
few neighbouring entries that differ by a unit or two merged, and a ramp of greys for the white
background, the black frame and text (antialiased to the ramp) and the grey of dead traces.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from seismic import quantiles

DEAD_RGB = (200, 200, 200)
# Greys of the palette: black and white, the dead-trace grey, and steps between for antialiased text.
GREYS = (0, 28, 57, 85, 114, 142, 171, 200, 228, 255)
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 12, 26, 44


@lru_cache(maxsize=8)
def colormap_lut(name: str = "seismic") -> np.ndarray:
    from matplotlib import colormaps

    cmap = colormaps[name]
    return (cmap(np.linspace(0.0, 1.0, 256))[:, :3] * 255).round().astype(np.uint8)


@lru_cache(maxsize=8)
def palette(name: str = "seismic") -> tuple[bytes, np.ndarray, np.ndarray]:
    """The PNG palette for colormap ``name``: its bytes, the palette entry of each of the 256
    colormap levels, and the palette entry of each grey value 0–255 (the nearest of ``GREYS``).

    256 colormap colours and the greys do not fit in 256 entries, so the colormap gives up
    ``len(GREYS)`` entries: those closest to their lower neighbour (non-overlapping pairs) take
    that neighbour's colour."""
    lut = colormap_lut(name)
    step = np.abs(np.diff(lut.astype(np.int64), axis=0)).sum(axis=1)  # level i to i + 1
    merged: set[int] = set()
    for i in np.argsort(step, kind="stable"):
        if len(merged) == len(GREYS):
            break
        if i not in merged and i + 1 not in merged and i - 1 not in merged:
            merged.add(int(i) + 1)  # level i + 1 shows level i's colour
    kept = [level for level in range(256) if level not in merged]
    entry = {level: position for position, level in enumerate(kept)}
    levels = np.array([entry[level - 1] if level in merged else entry[level] for level in range(256)], np.uint8)
    grey_values = np.array(GREYS)
    nearest = np.abs(np.arange(256)[:, None] - grey_values[None, :]).argmin(axis=1)
    greys = (len(kept) + nearest).astype(np.uint8)
    colours = np.concatenate((lut[kept], np.repeat(grey_values[:, None], 3, axis=1))).astype(np.uint8)
    return colours.tobytes(), levels, greys


@lru_cache(maxsize=1)
def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=12)


def clip_value(values: np.ndarray, percentile: float) -> float:
    """Symmetric clip: the given percentile of |amplitude| over the live samples."""
    if values.size == 0:
        return 1.0
    clip = float(quantiles.percentile(np.abs(values).reshape(-1), percentile))
    return clip if clip > 0 else 1.0


def nice_ticks(first: float, last: float, target: int = 6) -> list[float]:
    lo, hi = min(first, last), max(first, last)
    if hi == lo:
        return [lo]
    raw = (hi - lo) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(lo / step) * step
    ticks = []
    value = start
    while value <= hi + 1e-9 * step:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _label(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def render_png(
    image: np.ndarray,
    live: np.ndarray,
    *,
    x_values: np.ndarray,
    y_values: np.ndarray,
    x_label: str,
    y_label: str,
    title: str,
    clip_percentile: float = 99.0,
    cmap: str = "seismic",
) -> bytes:
    """PNG of ``image`` (rows = y, columns = x). ``live`` is a bool mask of the same shape or
    broadcastable to it; dead cells are drawn grey and excluded from the clip."""
    live = np.broadcast_to(live, image.shape)
    clip = clip_value(image[live], clip_percentile)
    colours, levels, greys = palette(cmap)
    index = levels.take(np.clip((image / clip + 1.0) * 127.5, 0, 255).astype(np.uint8))
    index[~live] = greys[DEAD_RGB[0]]
    ny, nx = image.shape
    fx = max(1, min(8, math.ceil(480 / nx)))
    fy = max(1, min(8, math.ceil(320 / ny)))
    plot = Image.fromarray(index).resize((nx * fx, ny * fy), Image.Resampling.NEAREST)
    width = MARGIN_LEFT + plot.width + MARGIN_RIGHT
    height = MARGIN_TOP + plot.height + MARGIN_BOTTOM
    # The frame, ticks and text are drawn in grey levels (antialiased), then take the palette's greys.
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    font = _font()
    draw.text((MARGIN_LEFT, 6), f"{title}   clip ±{clip:.4g} (p{clip_percentile:g} of |amplitude|)",
              fill="black", font=font)
    draw.rectangle([MARGIN_LEFT - 1, MARGIN_TOP - 1, MARGIN_LEFT + plot.width, MARGIN_TOP + plot.height],
                   outline="black")

    def position(values: np.ndarray, value: float, scale: int) -> float | None:
        if len(values) == 1:
            return scale / 2
        step = values[1] - values[0]
        i = (value - values[0]) / step
        return (i + 0.5) * scale if -0.5 <= i <= len(values) - 0.5 else None

    for tick in nice_ticks(float(x_values[0]), float(x_values[-1])):
        px = position(x_values, tick, fx)
        if px is None:
            continue
        x = MARGIN_LEFT + px
        y = MARGIN_TOP + plot.height
        draw.line([x, y, x, y + 4], fill="black")
        draw.text((x, y + 6), _label(tick), fill="black", font=font, anchor="ma")
    for tick in nice_ticks(float(y_values[0]), float(y_values[-1])):
        py = position(y_values, tick, fy)
        if py is None:
            continue
        tick_y = MARGIN_TOP + py
        draw.line([MARGIN_LEFT - 5, tick_y, MARGIN_LEFT - 1, tick_y], fill="black")
        draw.text((MARGIN_LEFT - 7, tick_y), _label(tick), fill="black", font=font, anchor="rm")
    draw.text((MARGIN_LEFT + plot.width / 2, height - 14), x_label, fill="black", font=font, anchor="mm")
    draw.text((4, MARGIN_TOP + plot.height + 8), y_label, fill="black", font=font)
    pixels = greys.take(np.asarray(canvas))
    pixels[MARGIN_TOP:MARGIN_TOP + plot.height, MARGIN_LEFT:MARGIN_LEFT + plot.width] = np.asarray(plot)
    picture = Image.frombytes("P", (width, height), pixels.tobytes())
    picture.putpalette(colours)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
