"""Settings of the scratch copies the canary test disposes of in a child process: the test
settings, with the database, MEDIA_ROOT and the log files from the environment."""

import os
from pathlib import Path

from kokasen.settings.test import *  # noqa: F403

MEDIA_ROOT = Path(os.environ["SCRATCH_MEDIA_ROOT"])
PRIVACY_LOG_FILES = [os.environ["SCRATCH_LOG_GLOB"]]

# SQLite as SQLite's own default builds it: freed space is NOT zeroed (Debian's build zeroes it
# by default, which would let the canary test pass without the disposal's own measures).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["OPTIONS"] = {  # noqa: F405
        **DATABASES["default"]["OPTIONS"],  # noqa: F405
        "init_command": DATABASES["default"]["OPTIONS"]["init_command"] + " PRAGMA secure_delete=OFF;",  # noqa: F405
    }
