from __future__ import annotations

import re
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from seismic import services, synthetic
from seismic.management.commands.import_segy import terminal_progress
from vifsite.errors import InputError

MAX_SAMPLES_TOTAL = 2_000_000_000


def parse_size(text: str) -> tuple[int, int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)x(\d+)", text.strip())
    if not match:
        raise CommandError(f"--size must look like 200x200x500 (inlines x crosslines x samples), not {text!r}.")
    ni, nx, ns = (int(v) for v in match.groups())
    if ni < 2 or nx < 2 or ns < 16:
        raise CommandError("--size needs at least 2 inlines, 2 crosslines and 16 samples.")
    if ni * nx * ns > MAX_SAMPLES_TOTAL:
        raise CommandError(f"--size {text} is over {MAX_SAMPLES_TOTAL:,} samples.")
    return ni, nx, ns


class Command(BaseCommand):
    help = ("Write a synthetic SEG-Y survey with planted features (dome, normal fault, bright spot, channel) and "
            "its ground truth JSON, then import it.")

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--size", default="200x200x500", help="inlines x crosslines x samples")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--noise", type=float, default=0.05, help="Noise std relative to the signal RMS.")
        parser.add_argument("--out-dir", help="Where to write the .sgy and .json (default: data dir/synthetic).")

    def handle(self, *args, **options):
        ni, nx, ns = parse_size(options["size"])
        if options["noise"] < 0:
            raise CommandError("--noise must not be negative.")
        name = options["name"]
        out_dir = Path(options["out_dir"] or Path(settings.DATA_DIR) / "synthetic")
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = slugify(name) or "synthetic"
        spec = synthetic.SyntheticSpec(n_inlines=ni, n_crosslines=nx, n_samples=ns, seed=options["seed"],
                                       noise=options["noise"])
        self.stderr.write(f"Generating {ni}x{nx}x{ns} synthetic volume (seed {spec.seed})...")
        volume = synthetic.generate(spec)
        segy_path, truth_path = out_dir / f"{stem}.sgy", out_dir / f"{stem}.json"
        synthetic.write_segy(volume, segy_path)
        synthetic.write_ground_truth(volume, truth_path)
        try:
            survey = services.survey_import_segy(path=segy_path, name=name, created_by="cli",
                                                 description=f"Synthetic survey, seed {spec.seed}; ground truth "
                                                             f"in {truth_path.name}.",
                                                 ground_truth=volume.ground_truth,
                                                 progress=terminal_progress(sys.stderr))
        except InputError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(
            f"Survey {survey.pk} {survey.name!r} from {segy_path} (ground truth {truth_path})."))
