"""The export's ZIP: the same files with the same times give the same bytes.

Names: every entry name is UTF-8 with the language-encoding flag (general purpose bit 11), which
Python's zipfile sets for any name that is not ASCII; Windows Explorer (Windows 7 SP1 and later,
including Windows 11's extractor), 7-Zip, macOS and Info-ZIP read such names as UTF-8, so
Japanese slugs and document names unpack readable (decision 0054).

Times: each entry carries when its content last changed (``mtimes``: the page's last publication,
the source file's modification time). The DOS date and time of the ZIP header hold local time
without a zone; they are written in the portal's zone (Asia/Tokyo, what the agency's PCs show),
and an extended-timestamp extra field (0x5455, "UT") carries the same instant in UTC for the
tools that read it (7-Zip, Info-ZIP, macOS).
"""

import io
import struct
import zipfile
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

# The time of an entry that ``mtimes`` leaves out when no time is known at all.
FIXED_TIME = datetime(2000, 1, 1, tzinfo=UTC)
PORTAL_ZONE = ZoneInfo("Asia/Tokyo")
EXTENDED_TIMESTAMP = 0x5455
UTF8_NAME_FLAG = 0x800


def dos_time(moment: datetime, zone: tzinfo = PORTAL_ZONE) -> tuple[int, int, int, int, int, int]:
    """The ZIP header's local date and time (two-second steps, 1980–2107)."""
    local = moment.astimezone(zone)
    local = min(max(local, datetime(1980, 1, 1, tzinfo=zone)), datetime(2107, 12, 31, 23, 59, 58, tzinfo=zone))
    return (local.year, local.month, local.day, local.hour, local.minute, local.second - local.second % 2)


def extended_timestamp(moment: datetime) -> bytes:
    """The "UT" extra field with the modification time only (flags bit 0), in Unix seconds."""
    seconds = max(0, min(int(moment.timestamp()), 2**31 - 1))
    return struct.pack("<HHBl", EXTENDED_TIMESTAMP, 5, 1, seconds)


def build_zip(files: dict[str, bytes], *, root: str = "", mtimes: dict[str, datetime] | None = None) -> bytes:
    mtimes = mtimes or {}
    fallback = max(mtimes.values(), default=FIXED_TIME)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            moment = mtimes.get(name, fallback)
            info = zipfile.ZipInfo(f"{root}{name}", date_time=dos_time(moment))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so that the permission bits below are honoured
            info.external_attr = 0o644 << 16
            info.extra = extended_timestamp(moment)
            archive.writestr(info, files[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()
