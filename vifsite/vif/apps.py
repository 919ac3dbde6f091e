from django.apps import AppConfig


class VifConfig(AppConfig):
    name = "vifsite.vif"
    label = "vif"
    verbose_name = "Verifiable Intelligence Framework"

    def ready(self) -> None:
        import vifsite.db  # noqa: F401  registers what a forked child drops of its parent's database pools
