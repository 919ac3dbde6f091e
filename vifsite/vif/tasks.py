"""django-q2 tasks of the VIF: thin, idempotent."""

from vifsite.vif import ledger


def ledger_checkpoint() -> None:
    ledger.checkpoint()


def kappa_suggestions() -> None:
    from vifsite.vif import services

    services.kappa_suggestions_compute()


def ledger_integrate() -> int:
    """Sequence leaves a request queued but did not integrate (it died in between). Usually none."""
    done = 0
    while count := ledger.integrate():
        done += count
    return done


def idempotency_prune() -> int:
    """Forget Idempotency-Key answers older than the replay window."""
    from vifsite.vif import services

    return services.idempotency_prune()
