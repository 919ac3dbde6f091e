from django.apps import AppConfig


class SeismicConfig(AppConfig):
    name = "seismic"
    verbose_name = "Seismic surveys"
