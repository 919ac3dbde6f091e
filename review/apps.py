from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = "Human review"

    def ready(self) -> None:
        # The review tools join the one tool registry (seismic never imports review).
        from review.descriptions import REVIEW_TOOLS
        from seismic.descriptions import TOOLS

        TOOLS.update(REVIEW_TOOLS)

        # Any saved or deleted escalation retires the queue pages cached before it (bulk changes tell it from
        # the queryset: review.models.EscalationQuerySet).
        from django.db.models.signals import post_delete, post_save

        from review.models import Escalation

        post_save.connect(_changed, sender=Escalation, dispatch_uid="review.queue.changed.save")
        post_delete.connect(_changed, sender=Escalation, dispatch_uid="review.queue.changed.delete")


def _changed(**kwargs: object) -> None:
    from review.queue import changed

    changed()
