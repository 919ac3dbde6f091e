"""django-q2 tasks of the review app: thin, idempotent."""

from review import services


def deliver(delivery_id: int) -> None:
    services.delivery_attempt(delivery_id=int(delivery_id))


def sla_sweep() -> dict[str, int]:
    return services.sla_sweep()
