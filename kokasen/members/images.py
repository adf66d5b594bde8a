"""Where the files of images in restricted collections live, and their URL
(docs/decisions/0019-protected-images.md).

An image is protected when its collection, or an ancestor, has a view restriction or is
marked 会員限定: the rule of the documents (``models.is_restricted_collection``). Its files
are stored in ``MEDIA_ROOT/protected_images/``, a folder that neither nginx nor the
development media helper serves:

- the original as ``protected_images/<32 hex>.<ext>``: a random name, nothing of the
  uploaded file name;
- its renditions as ``protected_images/renditions/<32 hex>.<ext>``.

The default storage (``storage.MediaStorage``) gives a file in that folder the URL of the
app's view ``/members/images/<name below the folder>`` (``views.serve_image``), which checks
access like the document view does; so ``{% image %}``, ``{% srcset_image %}``, renditions'
``url`` and the admin's thumbnails never show a ``/media/`` URL for them.

Signal handlers (connected in signals.py):

- ``store_protected_upload`` (Image pre_save): a new or replaced file of a protected image is
  written straight into the protected folder; Wagtail's ``original_images/<uploaded name>``
  is never written.
- ``store_rendition_with_its_original`` (Rendition post_init): a new rendition of an original
  stored in the protected folder is written into the protected folder too. Decided from the
  original's stored name, without a database query, because Wagtail makes several
  renditions at once in worker threads and saves them with ``bulk_create`` (no save signal).
- Image post_save, collection and restriction changes: ``services.protected_images_secure``
  moves files whose place no longer fits the collection.
"""

from __future__ import annotations

import re
import secrets

from django.urls import reverse

from . import uploads

PROTECTED_FOLDER = "protected_images"
RENDITIONS_FOLDER = f"{PROTECTED_FOLDER}/renditions"
PUBLIC_ORIGINALS_FOLDER = "original_images"  # Wagtail's folder for originals
VIEW_NAME = "members_image_serve"
# What the view accepts below /members/images/: exactly the names made here.
_VIEW_NAME_PATTERN = re.compile(r"(?:renditions/)?[0-9a-f]{32}\.[a-z0-9]{1,5}")

CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "svg": "image/svg+xml",
    "ico": "image/x-icon",
    "heic": "image/heic",
}


def _extension(name: str) -> str:
    ext = re.sub(r"[^a-z0-9]", "", uploads.extension_of(name))[:5]
    return ext or "img"


def _random_name(folder: str, original_name: str) -> str:
    return f"{folder}/{secrets.token_hex(16)}.{_extension(original_name)}"


def protected_original_name(original_name: str) -> str:
    return _random_name(PROTECTED_FOLDER, original_name)


def protected_rendition_name(original_name: str) -> str:
    return _random_name(RENDITIONS_FOLDER, original_name)


def public_original_name(original_name: str) -> str:
    """For an image that leaves protection: Wagtail's public folder, the random name kept."""
    return _random_name(PUBLIC_ORIGINALS_FOLDER, original_name)


def is_protected_name(name: str | None) -> bool:
    return bool(name) and name.replace("\\", "/").startswith(PROTECTED_FOLDER + "/")


def is_protected_rendition_name(name: str | None) -> bool:
    return bool(name) and name.replace("\\", "/").startswith(RENDITIONS_FOLDER + "/")


def view_url(name: str) -> str:
    """The URL of a stored file of the protected folder: /members/images/<name below it>."""
    return reverse(VIEW_NAME, kwargs={"name": name.replace("\\", "/")[len(PROTECTED_FOLDER) + 1 :]})


def stored_name(name_in_url: str) -> str | None:
    """The stored name for the part of a view URL after /members/images/; None for anything
    that is not a name made here (traversal, other folders, other characters)."""
    if not _VIEW_NAME_PATTERN.fullmatch(name_in_url):
        return None
    return f"{PROTECTED_FOLDER}/{name_in_url}"


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(uploads.extension_of(name), "application/octet-stream")


def is_protected_image(image) -> bool:
    from .models import is_restricted_collection

    return is_restricted_collection(image.collection)


def find(stored: str):
    """(image, field file) of the original or rendition stored under ``stored``, or None."""
    from wagtail.images import get_image_model

    Image = get_image_model()
    image = Image.objects.select_related("collection").filter(file=stored).first()
    if image is not None:
        return image, image.file
    Rendition = Image.get_rendition_model()
    rendition = Rendition.objects.select_related("image__collection").filter(file=stored).first()
    if rendition is not None:
        return rendition.image, rendition.file
    return None


# --------------------------------------------------------------------------- signal handlers


def _commit_as(fieldfile, name: str) -> None:
    """Write an uncommitted file (an upload, a generated rendition) under ``name``, as Django's
    FileField.pre_save would, but bypassing Wagtail's upload_to (which picks a public folder)."""
    content = fieldfile.file
    if hasattr(content, "seek"):
        content.seek(0)
    fieldfile.name = fieldfile.storage.save(name, content, max_length=fieldfile.field.max_length)
    fieldfile._committed = True  # Django then leaves the file alone when the row is saved


def store_protected_upload(sender, instance, raw=False, **kwargs):
    if raw or not instance.file or getattr(instance.file, "_committed", True):
        return
    if is_protected_image(instance):
        _commit_as(instance.file, protected_original_name(instance.file.name))


def store_rendition_with_its_original(sender, instance, **kwargs):
    # Rows read from the database (and deferred fields) carry no new file: nothing to do.
    if "file" not in instance.__dict__ or not instance.file or getattr(instance.file, "_committed", True):
        return
    image = instance._state.fields_cache.get("image")
    if image is None and instance.image_id is not None:
        image = instance.image
    if image is not None and is_protected_name(image.file.name):
        _commit_as(instance.file, protected_rendition_name(instance.file.name))
