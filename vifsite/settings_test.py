"""Fast settings for the test suite: its own data directory, MD5 hashing, synchronous django-q2."""

import os
import tempfile

os.environ["VIFSITE_DATA_DIR"] = tempfile.mkdtemp(prefix="vifsite-test-")
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)
os.environ["VIFSITE_HTTPS"] = "false"  # the test client speaks http

from vifsite.settings import *  # noqa: E402,F403
from vifsite.settings import Q_CLUSTER, REST_FRAMEWORK  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"principal": "100000/min"}}
# Witnesses sequenced in the request that queued them: tests read the chain right after (the integrator
# thread is tested on its own, tests/vif/test_ledger_integrator.py).
VIFSITE_LEDGER_INTEGRATE_IN_BACKGROUND = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
