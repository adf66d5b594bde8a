"""A deterministic ZIP: the same files give the same bytes, whenever and wherever built."""

import io
import zipfile

# ZIP stores local time without a zone; one fixed stamp keeps archives byte-identical.
FIXED_TIMESTAMP = (2000, 1, 1, 0, 0, 0)


def build_zip(files: dict[str, bytes], *, root: str = "", timestamp=FIXED_TIMESTAMP) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{root}{name}", date_time=timestamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so that the permission bits below are honoured
            info.external_attr = 0o644 << 16
            # Names are stored as UTF-8 with the language-encoding flag (zipfile sets it
            # for any non-ASCII name), so Japanese slugs survive every modern unzip tool.
            archive.writestr(info, files[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()
