"""The document view: Wagtail's /documents/<id>/<file name> with our own response.

Wagtail's view runs the ``before_serve_document`` hooks (its own view-restriction check,
then ours in wagtail_hooks.py) and would then stream the file itself, without range
support. A hook cannot do the streaming instead: Wagtail only accepts an ``HttpResponse``
from a hook, and a streaming response is not one (it would hold a 2 GB video in memory).
So kokasen/urls.py routes the same URL here first: the same lookup and hooks, then
``files.serve_document``.

Images of restricted collections have no /media/ URL (images.py): their originals and
renditions are served by ``serve_image`` at /members/images/<name>, after the same check
as documents (``access.collection_item_refusal``).
"""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from wagtail import hooks
from wagtail.documents import get_document_model
from wagtail.documents.models import document_served

from . import access, files, images
from .models import is_restricted_collection


def serve_document(request, document_id, document_filename):
    Document = get_document_model()
    document = get_object_or_404(Document, id=document_id)
    if document.filename != document_filename:
        raise Http404("This document does not match the given filename.")
    for hook in hooks.get_hooks("before_serve_document"):
        result = hook(document, request)
        if isinstance(result, HttpResponse):
            return result
    document_served.send(sender=Document, instance=document, request=request)
    restricted = document.collection.get_view_restrictions().exists()
    return files.serve_document(request, document, restricted=restricted)


def serve_image(request, name):
    stored = images.stored_name(name)
    found = images.find(stored) if stored else None
    if found is None:
        raise Http404("No such image.")
    image, fieldfile = found
    refusal = access.collection_item_refusal(image, request)
    if refusal is not None:
        return refusal
    return files.serve_image(request, image, fieldfile, restricted=is_restricted_collection(image.collection))


def no_password_restrictions(request, *args, **kwargs):
    """Wagtail's password forms for collection and page restrictions. The portal never uses
    password restrictions (they store the password in plain text; members are a group), so the
    forms do not exist here: 404, like any other unknown address."""
    raise Http404
