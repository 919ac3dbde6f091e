"""The section PNG: the colormap's colours for live samples, grey for dead ones, axes in the margins."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from seismic import imaging


def _render(image: np.ndarray, live: np.ndarray, **kwargs) -> Image.Image:
    png = imaging.render_png(image, live, x_values=np.arange(image.shape[1]) + 2000.0,
                             y_values=np.arange(image.shape[0]) * 4.0, x_label="crossline", y_label="time (ms)",
                             title="survey inline 1010", **kwargs)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(png))


def test_every_colormap_level_keeps_its_colour_within_two_units():
    colours, levels, greys = imaging.palette("seismic")
    table = np.frombuffer(colours, dtype=np.uint8).reshape(-1, 3).astype(int)
    assert len(table) == 256
    lut = imaging.colormap_lut("seismic").astype(int)
    assert np.abs(table[levels] - lut).max() <= 2
    assert (table[levels] == lut).all(axis=1).sum() == 256 - len(imaging.GREYS)
    assert tuple(table[greys[200]]) == imaging.DEAD_RGB
    assert tuple(table[greys[0]]) == (0, 0, 0) and tuple(table[greys[255]]) == (255, 255, 255)


def test_the_picture_shows_each_sample_in_its_colour_and_dead_traces_grey():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(1000, 700)).astype(np.float32)  # rows = samples, columns = traces
    live = np.ones((1, 700), dtype=bool)
    live[0, ::9] = False
    picture = _render(data, live)
    assert picture.mode == "P" and picture.size == (imaging.MARGIN_LEFT + 700 + imaging.MARGIN_RIGHT,
                                                    imaging.MARGIN_TOP + 1000 + imaging.MARGIN_BOTTOM)
    pixels = np.asarray(picture.convert("RGB")).astype(int)
    plot = pixels[imaging.MARGIN_TOP:imaging.MARGIN_TOP + 1000, imaging.MARGIN_LEFT:imaging.MARGIN_LEFT + 700]
    clip = float(np.percentile(np.abs(data[:, live[0]]).astype(np.float64), 99.0))
    level = np.clip((data / np.float32(clip) + 1.0) * 127.5, 0, 255).astype(np.uint8)
    expected = imaging.colormap_lut("seismic")[level].astype(int)
    assert np.abs(plot[:, live[0]] - expected[:, live[0]]).max() <= 2
    assert (plot[:, ~live[0]] == imaging.DEAD_RGB).all()
    margin = pixels[:imaging.MARGIN_TOP - 2]
    assert (margin == 255).all(axis=2).mean() > 0.8 and (margin == 0).all(axis=2).any()  # white, with black text


def test_the_clip_is_the_percentile_of_the_live_absolute_amplitudes():
    rng = np.random.default_rng(1)
    values = rng.normal(size=50_000).astype(np.float32)
    assert imaging.clip_value(values, 99.0) == float(np.percentile(np.abs(values), 99.0))
    assert imaging.clip_value(values, 95.5) == float(np.percentile(np.abs(values), 95.5))
    assert imaging.clip_value(np.zeros(10, np.float32), 99.0) == 1.0
    assert imaging.clip_value(np.zeros(0, np.float32), 99.0) == 1.0


def test_a_small_section_is_enlarged_by_whole_pixels():
    data = np.linspace(-1, 1, 12 * 20, dtype=np.float32).reshape(12, 20)
    picture = _render(data, np.ones((12, 20), dtype=bool))
    fx = fy = 8  # ceil(480 / 20) and ceil(320 / 12), both capped at 8
    assert picture.size == (imaging.MARGIN_LEFT + 20 * fx + imaging.MARGIN_RIGHT,
                            imaging.MARGIN_TOP + 12 * fy + imaging.MARGIN_BOTTOM)
    pixels = np.asarray(picture.convert("RGB")).astype(int)
    top_left = pixels[imaging.MARGIN_TOP, imaging.MARGIN_LEFT]
    bottom_right = pixels[imaging.MARGIN_TOP + 12 * fy - 1, imaging.MARGIN_LEFT + 20 * fx - 1]
    assert top_left[2] > top_left[0] and bottom_right[0] > bottom_right[2]  # blue for negative, red for positive
