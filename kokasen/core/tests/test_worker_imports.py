"""A web worker does not load the report and spreadsheet libraries (decision 0063).

openpyxl, python-docx and ReportLab (about 50 MiB of a worker's 155 MiB before the change) are
needed only when a staff member downloads a workbook or a report; they are imported inside the
functions that write those files. Here a fresh process imports kokasen.wsgi as gunicorn does,
serves the public home, the login page and the members' home to a member through Django's test
client (on the demo site), and reports which of those libraries it loaded: none may be. A new
module-level import of one of them anywhere on the path (a view, a wagtail_hooks module, a
selector) fails this test with the chain that imported it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("openpyxl", "docx", "reportlab")

PROBE = r"""
import json, sys, traceback

HEAVY = %(heavy)r
watching = False
first_importer = {}


class Watch:
    def find_spec(self, name, path=None, target=None):
        if watching and name in HEAVY and name not in first_importer:
            stack = [f"{f.filename}:{f.lineno}" for f in traceback.extract_stack()[:-1]
                     if "importlib" not in f.filename and "/kokasen/" in f.filename]
            first_importer[name] = stack[-6:]
        return None


sys.meta_path.insert(0, Watch())
from kokasen.wsgi import application  # noqa: E402,F401  as gunicorn loads it
at_start = [name for name in HEAVY if name in sys.modules]

# The schema from the models (no migrations: seconds instead of a minute), the local governments
# and the demo site.
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
settings.DATABASES["default"].setdefault("TEST", {})["MIGRATE"] = False
connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
from wagtail.models import Collection, Locale, Page  # noqa: E402
from kokasen.localgov import data  # noqa: E402
from kokasen.localgov.models import LocalGovernment  # noqa: E402
from kokasen.demo.loader import DemoLoader  # noqa: E402
from kokasen.testing import CODE_A, make_member  # noqa: E402
Locale.objects.get_or_create(language_code=settings.LANGUAGE_CODE)
Collection.add_root(name="Root")
Page.add_root(title="Root", slug="root")
data.sync(LocalGovernment, data.read_rows())
DemoLoader(log=lambda *args: None).run()
member = make_member(CODE_A)

# What the set-up loaded (the demo writes a workbook) is forgotten: only the requests count.
for name in list(sys.modules):
    if name.split(".")[0] in HEAVY:
        del sys.modules[name]
from django.test import Client  # noqa: E402
watching = True
client = Client(raise_request_exception=False)
statuses = {path: client.get(path).status_code for path in ("/", "/login/")}
client.force_login(member)
statuses["/members/"] = client.get("/members/").status_code
print(json.dumps({"statuses": statuses, "at_start": at_start,
                  "heavy": {n: first_importer.get(n) for n in HEAVY if n in sys.modules}}))
"""


def test_serving_pages_loads_no_report_or_spreadsheet_library(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "kokasen.settings.test",
        "DATABASE_URL": "sqlite://:memory:",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE % {"heavy": HEAVY}],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["statuses"] == {"/": 200, "/login/": 200, "/members/": 200}
    assert result["at_start"] == [], f"imported with kokasen.wsgi: {result['at_start']}"
    assert result["heavy"] == {}, f"imported on the request path (first importer's stack): {result['heavy']}"
