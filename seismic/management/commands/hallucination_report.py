from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from seismic import hallucination


class Command(BaseCommand):
    help = ("Run the interpretation audit over a labelled corpus and write a report (HTML and Markdown) with the "
            "detection rate per category and severity, the false-alarm rate on clean answers, and every miss.")

    def add_arguments(self, parser):
        parser.add_argument("--corpus", default=str(hallucination.DEFAULT_CORPUS))
        parser.add_argument("--data", default=str(Path(settings.BASE_DIR).parent / "shared" / "data"),
                            help="Folder of the SEG-Y files the corpus names (default: ../shared/data).")
        parser.add_argument("--out", default="hallucination_report.html",
                            help="HTML report; the Markdown one is written beside it (.md).")

    def handle(self, *args, corpus, data, out, **options):
        try:
            loaded = hallucination.load(corpus)
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read the corpus: {exc}") from None
        surveys = hallucination.ensure_surveys(loaded, data_dir=Path(data))
        results = hallucination.run(loaded, surveys,
                                    progress=lambda i, n: self.stderr.write(f"{i}/{n} cases audited")
                                    if i % 25 == 0 or i == n else None)
        summary = hallucination.summarise(results)
        out_path = Path(out)
        out_path.write_text(hallucination.html_report(summary), encoding="utf-8")
        out_path.with_suffix(".md").write_text(hallucination.markdown(summary), encoding="utf-8")
        self.stdout.write(hallucination.markdown(summary).split("## Misses")[0])
        self.stdout.write(f"Wrote {out_path} and {out_path.with_suffix('.md')}.")
