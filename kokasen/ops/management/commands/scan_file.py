"""Scan files the operator hands to the agency (the static export's ZIP, a report) with clamd,
and record each result with the signature version in the audit trail (REQUIREMENTS S5;
docs/operations.md "Checking a file before handing it over").

    kokasen-manage scan_file /srv/kokasen-static.zip 実施報告書.docx

Exit status as clamdscan's: 0 every file clean, 1 a virus was found (in any file), otherwise 2
when a file could not be checked (clamd down, unreadable, too large, encrypted): hand over nothing that did not exit 0.
"""

from __future__ import annotations

import getpass
import hashlib
import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kokasen.core.antivirus import ClamdError, Reason, ScanResult
from kokasen.core.audit import audit_record
from kokasen.core.virus_scan import scanner


class _Hashing(io.RawIOBase):
    """Reads a file for clamd and hashes what was read (the audit names the exact file)."""

    def __init__(self, file):
        self.file, self.sha256, self.size = file, hashlib.sha256(), 0

    def readable(self):
        return True

    def read(self, size=-1):
        data = self.file.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


class Command(BaseCommand):
    help = "ファイルを clamd でウイルス検査し、結果とシグネチャのバージョンを監査ログに記録します。"

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="検査するファイル")

    def handle(self, *paths, **options):
        client = scanner()
        if client is None:
            raise CommandError(
                "ウイルス検査の設定（CLAMD_ADDRESS）がありません。docs/configuration.md を参照してください。",
                returncode=2,
            )
        try:
            version = client.version()
        except ClamdError as error:
            version = None
            self.stderr.write(f"clamd のバージョンを取得できません: {error}")
        infected = unchecked = False
        for name in options["paths"]:
            path = Path(name).resolve()
            result, sha256, size = self._scan(client, path)
            if result.version is None and version is not None:
                result = ScanResult(
                    result.status, result.signature, result.reason, result.message, version, result.seconds
                )
            audit_record(
                action="antivirus.file_scanned",
                target_label=str(path),
                detail={
                    "path": str(path),
                    "size": size,
                    "sha256": sha256,
                    **result.audit_detail(),
                    "scanner": client.address,
                    "os_user": _os_user(),
                    "command": "scan_file",
                },
            )
            self.stdout.write(self._line(path, result, size, sha256))
            infected, unchecked = infected or result.is_infected, unchecked or result.is_unavailable
        if infected:
            raise CommandError("ウイルスが見つかりました。このファイルを渡さないでください。", returncode=1)
        if unchecked:
            raise CommandError("検査できなかったファイルがあります。検査できるまで渡さないでください。", returncode=2)

    @staticmethod
    def _scan(client, path: Path) -> tuple[ScanResult, str | None, int | None]:
        if not path.is_file():
            return ScanResult.unavailable(Reason.READ_ERROR, f"{path}: not a file"), None, None
        try:
            file = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as error:
            return ScanResult.unavailable(Reason.READ_ERROR, f"{path}: {error.strerror or error}"), None, None
        with file:
            reader = _Hashing(file)
            result = client.scan_stream(reader)
            if result.is_clean or result.is_infected:  # clamd read it all: the hash is the file's
                return result, reader.sha256.hexdigest(), reader.size
            return result, None, None

    @staticmethod
    def _line(path: Path, result: ScanResult, size, sha256) -> str:
        signatures = result.version.label() if result.version else "不明"
        if result.is_clean:
            return f"問題なし        {path}（{size:,} バイト、SHA-256 {sha256}、シグネチャ {signatures}）"
        if result.is_infected:
            return f"ウイルス検出    {path}: {result.signature}（シグネチャ {signatures}）"
        return f"検査できず      {path}: {result.reason.value}: {result.message}"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
