"""Helpers for the image tests: a small PNG, an image saved the way the admin saves one, and
the files under MEDIA_ROOT."""

import io
from pathlib import Path

from django.conf import settings
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from wagtail.images import get_image_model


def png_bytes(colour=(200, 30, 30), size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def make_image(title: str, collection, upload_name: str, *, colour=(200, 30, 30), content: bytes | None = None):
    """An image uploaded as ``upload_name`` into ``collection`` (the file is assigned, not yet
    stored, when the row is saved: what Wagtail's add views do). A PNG unless ``content``."""
    Image = get_image_model()
    image = Image(title=title, collection=collection)
    image.file = ImageFile(io.BytesIO(content or png_bytes(colour)), name=upload_name)
    image._set_image_file_metadata()
    image.save()
    return image


def media_files() -> set[str]:
    """Every file under MEDIA_ROOT, as names relative to it."""
    root = Path(settings.MEDIA_ROOT)
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def stored_bytes(fieldfile) -> bytes:
    with fieldfile.storage.open(fieldfile.name, "rb") as f:
        return f.read()
