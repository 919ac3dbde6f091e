import pytest


@pytest.fixture
def own_ledger_no_sampling(settings, tmp_path):
    """A signing key and checkpoints of the test's own, and no random calibration samples (which would
    send some accepted interpretations to the queue as spot checks)."""
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 0.0
