"""Every exported HTML file is valid HTML (Nu HTML Checker, errors only), in every variant."""

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from kokasen.conftest import VARIANTS

VNU_JAR = Path(__file__).resolve().parents[3] / "tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def run_vnu(files):
    """Run vnu.jar once over ``files``; return its list of messages (JSON format)."""
    java = shutil.which("java")
    if java is None:
        pytest.fail("java is not installed (needed for the Nu HTML Checker); run `make` to install it")
    if not VNU_JAR.is_file():
        pytest.fail(f"{VNU_JAR} is missing; run `make` to install tools/node_modules (vnu-jar)")
    result = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # vnu writes its JSON report to stderr; accept stdout too in case that changes.
    for stream in (result.stderr, result.stdout):
        stream = stream.strip()
        if stream.startswith("{"):
            return json.loads(stream)["messages"]
    pytest.fail(f"vnu.jar produced no JSON report (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="module")
def vnu_messages(exports):
    """{variant: [(relative path, line, message), ...]} from one java call for all variants."""
    folders = {variant: Path(folder).resolve() for variant, folder in exports.items()}
    files = {variant: sorted(folder.rglob("*.html")) for variant, folder in folders.items()}
    for variant, html in files.items():
        assert len(html) > 20, f"{variant}: only {len(html)} HTML files exported"
    messages = run_vnu([f for html in files.values() for f in html])
    found = {variant: [] for variant in folders}
    for message in messages:
        path = Path(unquote(urlsplit(message.get("url", "")).path)).resolve()
        text = f"[{message.get('type')}] {message.get('message')}"
        line = message.get("lastLine", "?")
        owners = [variant for variant, folder in folders.items() if path.is_relative_to(folder)]
        if owners:
            found[owners[0]].append((str(path.relative_to(folders[owners[0]])), line, text))
        else:  # e.g. a non-document error not tied to one file: every variant reports it
            for errors in found.values():
                errors.append((message.get("url", "?"), line, text))
    return found, {variant: len(html) for variant, html in files.items()}


@pytest.mark.parametrize("variant", VARIANTS, ids=["-".join(v) for v in VARIANTS])
def test_every_exported_html_file_is_valid(vnu_messages, variant):
    found, counts = vnu_messages
    errors = found[variant]
    report = "\n".join(f"  {path}:{line}: {message}" for path, line, message in errors)
    if errors:
        heading = f"{len(errors)} HTML errors in {counts[variant]} files of the {'-'.join(variant)} export:"
        pytest.fail(f"{heading}\n{report}", pytrace=False)
