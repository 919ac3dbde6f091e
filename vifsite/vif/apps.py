from django.apps import AppConfig


class VifConfig(AppConfig):
    name = "vifsite.vif"
    label = "vif"
    verbose_name = "Verifiable Intelligence Framework"
