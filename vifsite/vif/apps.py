from django.apps import AppConfig


class VifConfig(AppConfig):
    name = "vifsite.vif"
    label = "vif"
    verbose_name = "Verifiable Intelligence Framework"

    def ready(self) -> None:
        from vifsite.vif import schema  # noqa: F401  (registers the OpenAPI auth extension)
