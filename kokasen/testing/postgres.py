"""Debian's own PostgreSQL cluster, as the installer uses it: statements run as the postgres user
through its socket (peer authentication), so that the tests need nothing but Debian's postgresql
package in its default configuration (no trust authentication, no password)."""

from __future__ import annotations

import os
import subprocess


def ensure_cluster() -> None:
    """Start Debian's cluster if it does not answer on its socket (as .ci/run does)."""
    if subprocess.run(["pg_isready", "-q", "-h", "/run/postgresql"]).returncode == 0:
        return
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=True)


def psql(*statements: str, check: bool = True) -> None:
    """Run each statement as the postgres user (``runuser``: the tests run as root)."""
    for statement in statements:
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", statement],
            cwd="/",
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"psql failed on {statement!r}: {result.stderr.strip()}")
