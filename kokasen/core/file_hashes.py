"""SHA-256 manifests of a folder of files: written when the files are made, checked later
(Django-free; decision 0030).

The static export writes the hash of every file it writes into its marker file
(``EXPORT_MARKER``, key ``HASHES_KEY``), and records the digest of that list in the audit trail;
``ops_scan`` compares the folder nginx serves with both. A file changed, added or removed
behind the exporter's back (改ざん) is a difference; so is a marker whose list no longer matches
the digest recorded at export time (someone rewrote the list to hide a change).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

EXPORT_MARKER = ".kokasen-export.json"  # the static export's marker file, in its folder
HASHES_KEY = "sha256"
_BLOCK = 1 << 20


def digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hashes_of(files: dict[str, bytes]) -> dict[str, str]:
    """{relative path: SHA-256} of files held in memory, sorted by path."""
    return {name: digest_bytes(files[name]) for name in sorted(files)}


def manifest_digest(hashes: dict[str, str]) -> str:
    """One SHA-256 for a whole list (the same list in any order gives the same digest)."""
    return digest_bytes(json.dumps(hashes, sort_keys=True, separators=(",", ":")).encode())


def digest_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Differences:
    changed: list[str] = field(default_factory=list)  # content differs (or is now a symbolic link)
    missing: list[str] = field(default_factory=list)  # listed, not there
    added: list[str] = field(default_factory=list)  # there, not listed
    checked: int = 0  # files hashed

    def __bool__(self):
        return bool(self.changed or self.missing or self.added)


def tree_differences(root: Path, hashes: dict[str, str], *, ignore: tuple[str, ...] = (EXPORT_MARKER,)) -> Differences:
    """Compare the files under ``root`` with ``hashes`` ({posix relative path: SHA-256}).
    Symbolic links are never followed: a listed file that became a link counts as changed, an
    unlisted link as added."""
    root = Path(root)
    found = Differences()
    present = set()
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(directory)
        for name in sorted(filenames) + sorted(d for d in dirnames if (base / d).is_symlink()):
            path = base / name
            relative = path.relative_to(root).as_posix()
            if relative in ignore:
                continue
            present.add(relative)
            expected = hashes.get(relative)
            if expected is None:
                found.added.append(relative)
            elif path.is_symlink() or not path.is_file():
                found.changed.append(relative)
            else:
                found.checked += 1
                try:
                    actual = digest_file(path)
                except OSError:
                    actual = None
                if actual != expected:
                    found.changed.append(relative)
    found.missing = sorted(set(hashes) - present)
    return found
