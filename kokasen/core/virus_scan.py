"""Virus checking of uploads (REQUIREMENTS S5; docs/decisions/0028): the one call an upload
path makes before it stores a file, and the messages people see.

    from kokasen.core.virus_scan import scan_upload

    result = scan_upload(uploaded_file)      # Django's UploadedFile, a File, or any binary stream
    if not result.is_clean:                  # infected, or the scanner could not say: refuse
        ...  # the form's or view's refusal, with refusal_message(result) (Japanese)

Fail closed: only ``is_clean`` lets a file through. An infected file and a scanner that is down,
too slow, or cannot scan a file that large are all refusals; the reason is in the result, the
log and (for callers that audit) ``result.audit_detail()``. The file's position is put back to
the start after the scan, so the caller can store it as it is.

The scanner is ``settings.CLAMD_ADDRESS`` (clamd's unix socket or ``tcp://HOST:PORT``). Empty
means no scanner: allowed only where ``VIRUS_SCAN_REQUIRED`` is False (development and the test
settings, where every file then counts as clean); production refuses to start without one.
"""

from __future__ import annotations

import logging

from django.conf import settings

from .antivirus import Clamd, Reason, ScanResult, Status

logger = logging.getLogger("kokasen.virus_scan")

MESSAGES = {
    Status.INFECTED: "このファイルからウイルス（{signature}）が見つかったため、受け付けませんでした。"
    "ファイルは保存していません。送信元に確認してください。",
    Reason.SIZE_LIMIT: "このファイルは大きすぎてウイルス検査を最後まで行えないため、受け付けませんでした。"
    "ファイルを分けるか小さくしてから、もう一度お試しください。",
    Reason.ENCRYPTED: "パスワード付き（暗号化された）ファイルはウイルス検査ができないため、受け付けませんでした。"
    "パスワードを外したファイルでもう一度お試しください。",
    Reason.READ_ERROR: "ファイルを読み取れなかったため、ウイルス検査ができず、受け付けませんでした。"
    "もう一度お試しください。",
    # Connection, timeout, error, not configured: the scanner is not working right now.
    None: "ウイルス検査が現在行えないため、ファイルを受け付けませんでした。"
    "ファイルは保存していません。しばらくしてからもう一度お試しください。"
    "続く場合は運用担当者に連絡してください。",
}


def scanner() -> Clamd | None:
    """The configured clamd, or None when ``CLAMD_ADDRESS`` is empty."""
    address = getattr(settings, "CLAMD_ADDRESS", "")
    if not address:
        return None
    return Clamd(address, timeout=settings.CLAMD_TIMEOUT_SECONDS, scan_timeout=settings.CLAMD_SCAN_TIMEOUT_SECONDS)


def scan_upload(file, *, with_version: bool = True) -> ScanResult:
    """Scan an upload before it is stored: ``file`` is an UploadedFile, a File or a binary
    stream. Returns the result (never raises for the scanner's sake) and rewinds the file."""
    client = scanner()
    if client is None:
        if settings.VIRUS_SCAN_REQUIRED:
            result = ScanResult.unavailable(Reason.NOT_CONFIGURED, "CLAMD_ADDRESS is empty")
        else:
            return ScanResult.clean(message="not scanned: no scanner configured (VIRUS_SCAN_REQUIRED is off)")
    else:
        stream = getattr(file, "file", file)  # Django's File wraps the real stream
        _rewind(file)
        try:
            result = client.scan_stream(stream, with_version=with_version)
        finally:
            _rewind(file)
    name = getattr(file, "name", "") or ""
    if result.is_infected:
        logger.warning("virus found in an upload: %s (%s)", result.signature, name)
    elif result.is_unavailable:
        logger.error("upload refused, virus scan unavailable (%s): %s (%s)", result.reason.value, result.message, name)
    return result


def refusal_message(result: ScanResult) -> str:
    """The Japanese message for a refused file (empty for a clean one)."""
    if result.is_clean:
        return ""
    if result.is_infected:
        return MESSAGES[Status.INFECTED].format(signature=result.signature)
    return MESSAGES.get(result.reason, MESSAGES[None])


def _rewind(file) -> None:
    try:
        file.seek(0)
    except (AttributeError, OSError, ValueError):
        pass
