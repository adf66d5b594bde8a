"""A small client for clamd, ClamAV's scanning daemon (Django-free; docs/decisions/0028).

clamd listens on a unix socket (Debian: ``/run/clamav/clamd.ctl``) or on TCP. This module
speaks its protocol with the null-terminated ``z`` commands, one connection per command:

- ``PING`` → ``PONG``: the daemon answers;
- ``VERSION`` → ``ClamAV 1.4.6/27475/Sun Dec  6 08:22:33 2026``: the engine, the version of the
  loaded ``daily`` signature database and its build time (in clamd's local time; the date is
  read in this machine's time zone, so clamd must run on this machine or in the same zone);
- ``INSTREAM``: the content in chunks (a 4-byte big-endian length, then the bytes), ended by a
  zero-length chunk, answered ``stream: OK``, ``stream: <name> FOUND`` or ``… ERROR``. Files are
  always streamed, never named (clamd runs as another user and cannot read our files).

Every scan ends in a :class:`ScanResult`: clean, infected (with the signature's name) or
unavailable (with the reason). Nothing here raises for a scanner that is down, slow, full or
confused: that is an ``unavailable`` result, and callers refuse the file (fail closed).
"""

from __future__ import annotations

import enum
import os
import socket
import struct
import time
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime, timezone
from typing import BinaryIO

CHUNK_SIZE = 64 * 1024
# clamd answers PING and VERSION at once; a scan of a large file takes time (a 50 MB PDF a few
# seconds, a 2 GB video up to a minute or two on a busy machine).
DEFAULT_TIMEOUT = 2.0
DEFAULT_SCAN_TIMEOUT = 300.0
# What clamd names a file it did not scan to the end because of its own limits (MaxFileSize,
# MaxScanSize …) when AlertExceedsMax is on: not a virus, but not known to be clean either.
LIMITS_EXCEEDED_PREFIX = "Heuristics.Limits.Exceeded"
# What it names an encrypted archive or document (AlertEncrypted): it could not look inside.
ENCRYPTED_PREFIX = "Heuristics.Encrypted"


class Status(enum.Enum):
    CLEAN = "clean"
    INFECTED = "infected"
    UNAVAILABLE = "unavailable"


class Reason(enum.Enum):
    """Why a scan is ``unavailable``; each has its own message for people (virus_scan.py)."""

    NOT_CONFIGURED = "not_configured"  # no scanner address in the settings
    CONNECTION = "connection"  # no answer at the address (clamd stopped, wrong socket)
    TIMEOUT = "timeout"  # clamd did not answer in time
    SIZE_LIMIT = "size_limit"  # larger than clamd scans (StreamMaxLength, MaxFileSize …)
    ENCRYPTED = "encrypted"  # a password-protected archive or document: clamd cannot look inside
    READ_ERROR = "read_error"  # the file itself could not be read
    ERROR = "error"  # clamd answered with an error or something unexpected


@dataclass(frozen=True)
class Version:
    """What ``VERSION`` said: ``ClamAV 1.4.6/27475/Sun Dec  6 08:22:33 2026``."""

    raw: str
    engine: str  # "1.4.6"
    signatures: int | None = None  # the daily database's version; None when none is loaded
    signatures_date: datetime | None = None  # its build time (aware)

    def age_seconds(self, now: datetime | None = None) -> float | None:
        if self.signatures_date is None:
            return None
        return ((now or datetime.now(UTC)) - self.signatures_date).total_seconds()

    def label(self) -> str:
        """ "27475 (2026-12-06 08:22)" or "unknown", for messages and the audit trail."""
        if self.signatures is None:
            return "unknown"
        date = self.signatures_date.strftime("%Y-%m-%d %H:%M %Z") if self.signatures_date else "?"
        return f"{self.signatures} ({date})"


@dataclass(frozen=True)
class ScanResult:
    status: Status
    signature: str = ""  # the name clamd gave, when infected
    reason: Reason | None = None  # when unavailable
    message: str = ""  # clamd's answer or the error, for logs (never shown to visitors)
    version: Version | None = field(default=None, compare=False)  # the signatures used, when asked
    seconds: float = field(default=0.0, compare=False)

    @classmethod
    def clean(cls, **kwargs) -> ScanResult:
        return cls(Status.CLEAN, **kwargs)

    @classmethod
    def infected(cls, signature: str, **kwargs) -> ScanResult:
        return cls(Status.INFECTED, signature=signature, **kwargs)

    @classmethod
    def unavailable(cls, reason: Reason, message: str = "", **kwargs) -> ScanResult:
        return cls(Status.UNAVAILABLE, reason=reason, message=message, **kwargs)

    @property
    def is_clean(self) -> bool:
        """The only status under which a file may be stored."""
        return self.status is Status.CLEAN

    @property
    def is_infected(self) -> bool:
        return self.status is Status.INFECTED

    @property
    def is_unavailable(self) -> bool:
        return self.status is Status.UNAVAILABLE

    def audit_detail(self) -> dict:
        """The result as the audit trail records it (JSON-safe)."""
        detail = {"result": self.status.value}
        if self.signature:
            detail["signature"] = self.signature
        if self.reason is not None:
            detail["reason"] = self.reason.value
            detail["message"] = self.message[:300]
        if self.version is not None:
            detail["engine"] = self.version.engine
            detail["signature_version"] = self.version.signatures
            detail["signature_date"] = (
                self.version.signatures_date.isoformat() if self.version.signatures_date else None
            )
        return detail


class ClamdError(Exception):
    """clamd could not be asked (connection, timeout) or answered nonsense."""

    def __init__(self, reason: Reason, message: str):
        super().__init__(message)
        self.reason = reason


def system_zone() -> zoneinfo.ZoneInfo | timezone:
    """The machine's own time zone (/etc/localtime), the one clamd writes its dates in. Not the
    process's ``TZ``: Django sets that to ``TIME_ZONE`` for itself."""
    try:
        with open("/etc/localtime", "rb") as file:
            return zoneinfo.ZoneInfo.from_file(file, key="localtime")
    except (OSError, ValueError):
        return UTC


def parse_version(raw: str, zone=None) -> Version:
    """``ClamAV 1.4.6/27475/Sun Dec  6 08:22:33 2026`` (or just ``ClamAV 1.4.6`` when no
    ``daily`` database is loaded); the date is clamd's local time in ``zone``."""
    text = raw.strip().rstrip("\0").strip()
    if not text.startswith("ClamAV "):
        raise ClamdError(Reason.ERROR, f"unexpected VERSION answer: {text[:100]!r}")
    parts = text[len("ClamAV ") :].split("/", 2)
    engine = parts[0].strip()
    signatures = date = None
    if len(parts) == 3:
        try:
            signatures = int(parts[1])
            naive = datetime.strptime(" ".join(parts[2].split()), "%a %b %d %H:%M:%S %Y")
        except ValueError:
            raise ClamdError(Reason.ERROR, f"unexpected VERSION answer: {text[:100]!r}") from None
        date = naive.replace(tzinfo=zone if zone is not None else system_zone())
    return Version(raw=text, engine=engine, signatures=signatures, signatures_date=date)


class Clamd:
    """clamd at ``address``: an absolute path (a unix socket) or ``tcp://HOST:PORT``.

    ``timeout`` bounds connecting and each PING or VERSION; ``scan_timeout`` bounds each wait for
    clamd during a scan (sending a chunk, or the answer once everything was sent).
    """

    def __init__(
        self,
        address: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        scan_timeout: float = DEFAULT_SCAN_TIMEOUT,
        chunk_size: int = CHUNK_SIZE,
        zone=None,
    ):
        self.address = address
        self.timeout = timeout
        self.scan_timeout = scan_timeout
        self.chunk_size = chunk_size
        self.zone = zone
        if address.startswith("/"):
            self._family, self._target = socket.AF_UNIX, address
        elif address.startswith("tcp://"):
            host, _, port = address[len("tcp://") :].rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"clamd address {address!r}: use tcp://HOST:PORT or an absolute socket path")
            self._family, self._target = None, (host.strip("[]"), int(port))
        else:
            raise ValueError(f"clamd address {address!r}: use tcp://HOST:PORT or an absolute socket path")

    def __repr__(self) -> str:
        return f"Clamd({self.address!r})"

    # --- the connection ------------------------------------------------------------------------

    def _connect(self, timeout: float) -> socket.socket:
        try:
            if self._family == socket.AF_UNIX:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(timeout)
                try:
                    sock.connect(self._target)
                except BaseException:
                    sock.close()
                    raise
                return sock
            return socket.create_connection(self._target, timeout=timeout)
        except TimeoutError:
            raise ClamdError(
                Reason.TIMEOUT, f"clamd at {self.address} did not accept a connection within {timeout:g} s"
            ) from None
        except OSError as error:
            raise ClamdError(Reason.CONNECTION, f"clamd at {self.address}: {error.strerror or error}") from None

    @staticmethod
    def _read_reply(sock: socket.socket, what: str, address: str) -> str:
        data = b""
        try:
            while not data.endswith(b"\0"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
                if len(data) > 64 * 1024:
                    raise ClamdError(Reason.ERROR, f"clamd at {address}: answer to {what} too long")
        except TimeoutError:
            raise ClamdError(Reason.TIMEOUT, f"clamd at {address} did not answer {what} in time") from None
        except OSError as error:
            raise ClamdError(Reason.CONNECTION, f"clamd at {address}, {what}: {error.strerror or error}") from None
        if not data:
            raise ClamdError(Reason.CONNECTION, f"clamd at {address} closed the connection without answering {what}")
        return data.rstrip(b"\0").decode("utf-8", "replace").strip()

    def _command(self, command: str) -> str:
        with self._connect(self.timeout) as sock:
            try:
                sock.sendall(b"z" + command.encode() + b"\0")
            except TimeoutError:
                raise ClamdError(Reason.TIMEOUT, f"clamd at {self.address} did not take {command} in time") from None
            except OSError as error:
                raise ClamdError(Reason.CONNECTION, f"clamd at {self.address}, {command}: {error}") from None
            return self._read_reply(sock, command, self.address)

    # --- commands -------------------------------------------------------------------------------

    def ping(self) -> None:
        """Raises ClamdError unless clamd answers PONG within the timeout."""
        answer = self._command("PING")
        if answer != "PONG":
            raise ClamdError(Reason.ERROR, f"clamd at {self.address} answered PING with {answer[:100]!r}")

    def version(self) -> Version:
        """The engine and signature versions clamd has loaded (raises ClamdError)."""
        return parse_version(self._command("VERSION"), self.zone)

    def scan_stream(self, stream: BinaryIO, *, with_version: bool = False) -> ScanResult:
        """Scan what ``stream`` holds from its current position (read in chunks; the position
        is not restored). Never raises for clamd's sake: see ScanResult."""
        started = time.monotonic()
        version = None
        if with_version:
            try:
                version = self.version()
            except ClamdError as error:
                return ScanResult.unavailable(error.reason, str(error), seconds=time.monotonic() - started)
        try:
            answer = self._instream(stream)
        except ClamdError as error:
            return ScanResult.unavailable(error.reason, str(error), version=version, seconds=time.monotonic() - started)
        return self._result(answer, version, time.monotonic() - started)

    def scan_bytes(self, data: bytes, **kwargs) -> ScanResult:
        import io

        return self.scan_stream(io.BytesIO(data), **kwargs)

    def scan_path(self, path: str | os.PathLike, **kwargs) -> ScanResult:
        """Scan a file by streaming it (clamd needs no access to it)."""
        try:
            file = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as error:
            return ScanResult.unavailable(Reason.READ_ERROR, f"{path}: {error.strerror or error}")
        with file:
            return self.scan_stream(file, **kwargs)

    # --- INSTREAM ---------------------------------------------------------------------------------

    def _instream(self, stream: BinaryIO) -> str:
        with self._connect(self.timeout) as sock:
            sock.settimeout(self.scan_timeout)
            try:
                sock.sendall(b"zINSTREAM\0")
                while True:
                    try:
                        chunk = stream.read(self.chunk_size)
                    except (OSError, ValueError) as error:
                        raise ClamdError(Reason.READ_ERROR, f"reading the file to scan: {error}") from None
                    if not chunk:
                        break
                    sock.sendall(struct.pack("!L", len(chunk)) + chunk)
                sock.sendall(struct.pack("!L", 0))
            except TimeoutError:
                raise ClamdError(
                    Reason.TIMEOUT, f"clamd at {self.address} took no more data for {self.scan_timeout:g} s"
                ) from None
            except (BrokenPipeError, ConnectionResetError):
                # clamd stops reading and closes when the stream passes StreamMaxLength; its
                # answer ("INSTREAM size limit exceeded. ERROR") may still be waiting.
                pass
            except OSError as error:
                raise ClamdError(Reason.CONNECTION, f"clamd at {self.address}, INSTREAM: {error}") from None
            return self._read_reply(sock, "INSTREAM", self.address)

    @staticmethod
    def _result(answer: str, version: Version | None, seconds: float) -> ScanResult:
        # "stream: OK", "stream: Eicar-Test-Signature FOUND", "INSTREAM size limit exceeded. ERROR"
        if answer.endswith(" FOUND"):
            name = answer[: -len(" FOUND")].split(": ", 1)[-1].strip()
            if name.startswith(LIMITS_EXCEEDED_PREFIX):
                return ScanResult.unavailable(Reason.SIZE_LIMIT, answer, version=version, seconds=seconds)
            if name.startswith(ENCRYPTED_PREFIX):
                return ScanResult.unavailable(Reason.ENCRYPTED, answer, version=version, seconds=seconds)
            return ScanResult.infected(name, message=answer, version=version, seconds=seconds)
        if answer.endswith(": OK") or answer == "OK":
            return ScanResult.clean(message=answer, version=version, seconds=seconds)
        if "size limit exceeded" in answer:
            return ScanResult.unavailable(Reason.SIZE_LIMIT, answer, version=version, seconds=seconds)
        return ScanResult.unavailable(Reason.ERROR, answer[:300], version=version, seconds=seconds)
