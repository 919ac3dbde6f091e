"""django-q2 tasks of the VIF: thin, idempotent."""

from vifsite.vif import ledger


def ledger_checkpoint() -> None:
    ledger.checkpoint()


def kappa_suggestions() -> None:
    from vifsite.vif import services

    services.kappa_suggestions_compute()
