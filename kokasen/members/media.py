"""The development server's helper for MEDIA_ROOT, limited to the public image folders.

Document originals live in MEDIA_ROOT/documents/ and must only ever be served by the
document view (which checks access); images of restricted collections live in
MEDIA_ROOT/protected_images/ and must only ever be served by the image view
(/members/images/…, kokasen/members/images.py). In production nginx refuses both folders
under /media/ (deploy/nginx/portal.conf), and this helper does the same on a developer's
machine: it serves Wagtail's public folders and nothing else, after normalising the path.
"""

import posixpath
import re

from django.conf import settings
from django.http import Http404
from django.urls import re_path
from django.views.static import serve

PUBLIC_MEDIA_FOLDERS = ("images", "original_images")


def serve_public_media(request, path):
    # "images/../documents/x.pdf" normalises into documents/ (and "images/../protected_images/…"
    # into protected_images/): refuse anything that leaves the public folders.
    normalised = posixpath.normpath(path.replace("\\", "/")).lstrip("/")
    if normalised.split("/", 1)[0] not in PUBLIC_MEDIA_FOLDERS or ".." in normalised.split("/"):
        raise Http404
    return serve(request, normalised, document_root=settings.MEDIA_ROOT)


def dev_media_urlpatterns():
    prefix = re.escape(settings.MEDIA_URL.lstrip("/"))
    folders = "|".join(re.escape(folder) for folder in PUBLIC_MEDIA_FOLDERS)
    return [
        re_path(
            rf"^{prefix}(?P<path>(?:{folders})/[^/].*)$",
            serve_public_media,
        )
    ]
