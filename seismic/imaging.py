"""Section pictures: a colormap lookup table into Pillow, axes annotated in survey numbers.

matplotlib's figure machinery is several times slower than this, so only its colormaps are used.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

DEAD_RGB = (200, 200, 200)
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 12, 26, 44


@lru_cache(maxsize=8)
def colormap_lut(name: str = "seismic") -> np.ndarray:
    from matplotlib import colormaps

    cmap = colormaps[name]
    return (cmap(np.linspace(0.0, 1.0, 256))[:, :3] * 255).round().astype(np.uint8)


@lru_cache(maxsize=1)
def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=12)


def clip_value(values: np.ndarray, percentile: float) -> float:
    """Symmetric clip: the given percentile of |amplitude| over the live samples."""
    if values.size == 0:
        return 1.0
    clip = float(np.percentile(np.abs(values), percentile))
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
    index = np.clip((image / clip + 1.0) * 127.5, 0, 255).astype(np.uint8)
    rgb = colormap_lut(cmap)[index]
    rgb[~live] = DEAD_RGB
    ny, nx = image.shape
    fx = max(1, min(8, math.ceil(480 / nx)))
    fy = max(1, min(8, math.ceil(320 / ny)))
    plot = Image.fromarray(rgb, "RGB").resize((nx * fx, ny * fy), Image.Resampling.NEAREST)
    width = MARGIN_LEFT + plot.width + MARGIN_RIGHT
    height = MARGIN_TOP + plot.height + MARGIN_BOTTOM
    canvas = Image.new("RGB", (width, height), "white")
    canvas.paste(plot, (MARGIN_LEFT, MARGIN_TOP))
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
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
