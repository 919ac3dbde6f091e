from django.core.management.base import BaseCommand, CommandError

from seismic import services
from vifsite.errors import InputError


class Command(BaseCommand):
    help = "Register an existing VDS file or a cloud URL OpenVDS can open, without importing."

    def add_arguments(self, parser):
        parser.add_argument("url", help="Path of a .vds file, or an s3://, azure://, gs:// URL.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--description", default="")

    def handle(self, *args, **options):
        try:
            survey = services.survey_register_vds(url=options["url"], name=options["name"],
                                                  description=options["description"], created_by="cli",
                                                  restrict_to_roots=False)
        except InputError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"Survey {survey.pk} {survey.name!r} registered."))
