"""Virus-scan benchmark: `make bench` (or python -m kokasen.bench.virus_scan [--megabytes N]).

Starts Debian's clamd with deploy/clamav/clamd.conf and the tests' signature database
(kokasen/testing/clamd.py), writes a file of the largest upload (VIDEO_MAX_UPLOAD_SIZE, 2,000 MB:
random blocks, as incompressible as a video), and streams it to clamd the way the upload handlers
do (INSTREAM in 64 KB chunks from the temporary file): clean, then with the test signature in the
last bytes (found only if clamd read to the end), then one byte over clamd's MaxFileSize (refused
as too large, never clean). Prints the seconds and MB/s of each. Nothing is asserted.

With the official signatures (several million) clamd is slower than with the one test signature
here; compare the figure with CLAMD_SCAN_TIMEOUT_SECONDS and gunicorn's --timeout (300 s).
"""

import argparse
import os
import re
import tempfile
import time
from pathlib import Path

from kokasen.core.antivirus import Clamd
from kokasen.testing.clamd import DEPLOY_CONF, TEST_SIGNATURE_TEXT, ClamdServer

MB = 1024 * 1024
BLOCK = 64 * MB


def write_file(path: Path, size: int, tail: bytes = b"") -> None:
    block = os.urandom(BLOCK)
    with open(path, "wb") as file:
        remaining = size - len(tail)
        while remaining > 0:
            file.write(block[: min(BLOCK, remaining)])
            remaining -= BLOCK
        file.write(tail)


def clamd_size(name: str) -> int:
    value = re.search(rf"^{name} (\d+)M$", DEPLOY_CONF.read_text(), re.MULTILINE)
    return int(value.group(1)) * MB


def scan(client: Clamd, path: Path, label: str) -> None:
    size = path.stat().st_size
    started = time.monotonic()
    result = client.scan_path(path)
    seconds = time.monotonic() - started
    outcome = result.signature or (result.reason.value if result.reason else result.status.value)
    print(f"{label:<34} {size / MB:>9,.1f} MB  {seconds:6.1f} s  {size / MB / seconds:7.1f} MB/s  {outcome}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=2000, help="the largest upload (VIDEO_MAX_UPLOAD_SIZE)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kokasen-bench-clamd-") as tmp:
        folder = Path(tmp)
        with ClamdServer(folder / "clamd") as server:
            client = Clamd(server.socket_path, scan_timeout=900)
            video = folder / "video.webm"
            write_file(video, args.megabytes * MB)
            scan(client, video, "largest upload, clean")
            write_file(video, args.megabytes * MB, tail=TEST_SIGNATURE_TEXT)
            scan(client, video, "largest upload, signature at end")
            write_file(video, clamd_size("MaxFileSize") + 1)
            scan(client, video, "MaxFileSize + 1 byte")


if __name__ == "__main__":
    main()
