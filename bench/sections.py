"""Section benchmark on a 400x400x500 synthetic survey (make bench).

For inline, crossline and timeslice, cold and warm medians of:
  (a) the full API section request: extract + statistics + provenance row (Django test client,
      agent key, SQLite),
  (b) the extraction alone through OpenVDS (amplitudes + live-trace mask),
  (c) the same slice copied from an in-memory numpy cube (the floor),
  (d) segyio reading the same slice from the SEG-Y file,
  (e) the statistics alone, (f) the PNG alone,
and the ratios a/c and b/d. "Cold" means a freshly opened OpenVDS handle (or segyio file), so no
brick is cached in the process; the operating system's page cache stays warm and is not dropped.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np
import segyio
from django.test import Client

from bench import results
from bench.common import SIZE, agent_key, bench_survey, median_ms  # before the project's modules: it sets Django up
from seismic import imaging, services, stats, vds

WARM_RUNS, COLD_RUNS = 9, 5


def main() -> None:
    survey = bench_survey()
    segy_path = Path(os.environ["VIFSITE_DATA_DIR"]) / "synthetic" / f"bench-{SIZE}.sgy"
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {agent_key('bench')}")

    with segyio.open(str(segy_path)) as f:
        cube = segyio.tools.cube(f)
    samples = list(survey.geometry().sample.values())
    il = survey.inline_first + (survey.inline_count // 2) * survey.inline_step
    xl = survey.crossline_first + (survey.crossline_count // 2) * survey.crossline_step
    ts = samples[len(samples) // 2]
    il_i, xl_i, ts_i = survey.inline_count // 2, survey.crossline_count // 2, len(samples) // 2
    cases = {
        "inline": (il, lambda: cube[il_i].copy(), lambda f: f.iline[int(il)]),
        "crossline": (xl, lambda: cube[:, xl_i, :].copy(), lambda f: f.xline[int(xl)]),
        "timeslice": (ts, lambda: cube[:, :, ts_i].copy(), lambda f: f.depth_slice[ts_i]),
    }

    def reopen() -> None:
        vds.close_all()

    rows = []
    for kind, (number, numpy_slice, segy_slice) in cases.items():
        url = f"/api/v1/surveys/{survey.pk}/sections/{kind}/{number:g}/"

        def api() -> None:
            response = client.get(url)
            assert response.status_code == 200, response.content

        def extract() -> None:
            services.section_read(survey=survey, kind=kind, number=number)

        section = services.section_read(survey=survey, kind=kind, number=number)
        interval = survey.sample_step / 1000
        segy_file = segyio.open(str(segy_path))

        def segy_warm() -> None:
            segy_slice(segy_file)

        def segy_cold() -> None:
            with segyio.open(str(segy_path)) as f:
                segy_slice(f)

        row = {
            "kind": kind,
            "shape": "x".join(map(str, section.data.shape)),
            "a_cold": median_ms(api, COLD_RUNS, before=reopen), "a_warm": median_ms(api, WARM_RUNS),
            "b_cold": median_ms(extract, COLD_RUNS, before=reopen), "b_warm": median_ms(extract, WARM_RUNS),
            "c": median_ms(numpy_slice, WARM_RUNS),
            "d_cold": median_ms(segy_cold, COLD_RUNS), "d_warm": median_ms(segy_warm, WARM_RUNS),
            "e": median_ms(lambda: stats.section_statistics(section.data, section.live, vertical=section.vertical,
                                                            sample_interval_s=interval), WARM_RUNS),
            "f": median_ms(lambda: services.section_png(section=section), WARM_RUNS),
        }
        segy_file.close()
        rows.append(row)

    big = np.random.default_rng(0).normal(size=(1000, 1000)).astype(np.float32)
    stats_1000 = median_ms(lambda: stats.section_statistics(big, np.ones(1000, bool), vertical=True,
                                                            sample_interval_s=0.004), WARM_RUNS)
    lut_png = median_ms(lambda: imaging.render_png(big.T, np.ones((1, 1000), bool), x_values=np.arange(1000.0),
                                                   y_values=np.arange(1000.0), x_label="x", y_label="y",
                                                   title="t"), WARM_RUNS)

    print(f"\nSection benchmark, survey {SIZE} (inline x crossline x sample), float32")
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, {vds.openvds_version()}, numpy {np.__version__}")
    print(f"Medians in ms of {WARM_RUNS} warm / {COLD_RUNS} cold runs. Cold = new OpenVDS handle or segyio file; "
          "the OS page cache is warm.\n")
    header = (f"{'section':10} {'shape':>9} | {'(a) API cold':>12} {'warm':>7} | {'(b) VDS cold':>12} {'warm':>7} | "
              f"{'(c) numpy':>9} | {'(d) segyio cold':>15} {'warm':>7} | {'(e) stats':>9} | {'(f) PNG':>8} | "
              f"{'a/c warm':>8} | {'b/d cold':>8} {'b/d warm':>8}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['kind']:10} {r['shape']:>9} | {r['a_cold']:12.2f} {r['a_warm']:7.2f} | {r['b_cold']:12.2f} "
              f"{r['b_warm']:7.2f} | {r['c']:9.3f} | {r['d_cold']:15.2f} {r['d_warm']:7.2f} | {r['e']:9.2f} | "
              f"{r['f']:8.2f} | {r['a_warm'] / r['c']:8.0f} | {r['b_cold'] / r['d_cold']:8.2f} "
              f"{r['b_warm'] / r['d_warm']:8.2f}")
    print(f"\nStatistics of a 1000x1000 section: {stats_1000:.1f} ms (goal < 100 ms)")
    print(f"PNG of a 1000x1000 section (colormap LUT + Pillow): {lut_png:.1f} ms")
    worst = max(r["a_warm"] for r in rows)
    print(f"Slowest warm full section request: {worst:.1f} ms (goal < 50 ms)")
    results.write("sections", {"size": SIZE, "warm_runs": WARM_RUNS, "cold_runs": COLD_RUNS, "sections_ms": rows,
                               "statistics_1000x1000_ms": stats_1000, "png_1000x1000_ms": lut_png})


if __name__ == "__main__":
    main()
