from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = "Human review"

    def ready(self) -> None:
        # The review tools join the one tool registry (seismic never imports review).
        from review.descriptions import REVIEW_TOOLS
        from seismic.descriptions import TOOLS

        TOOLS.update(REVIEW_TOOLS)
