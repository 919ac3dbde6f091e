from django.apps import AppConfig


class SeismicConfig(AppConfig):
    name = "seismic"
    verbose_name = "Seismic surveys"

    def ready(self) -> None:
        from seismic import services, tools
        from vifsite.vif import replay

        replay.register("extract_section", services.section_extract_replay)
        tools.register_replayers()
