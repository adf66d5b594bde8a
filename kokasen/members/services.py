"""Writes of the members area: keeping its restrictions in place.

``members_area_secure()`` is idempotent and runs whenever a MembersHomePage is saved, when
someone deletes one of the area's restrictions (signals.py), from ``load_demo`` and from
``manage.py setup_members_area``. It makes sure that

- every MembersHomePage has a "groups" PageViewRestriction to 自治体/管理者/受託者 (and no
  other kind of restriction: no shared password, no "any logged-in user");
- the collection 「会員限定資料」 exists, is marked protected, and every protected
  collection has the same "groups" CollectionViewRestriction.

Each repair is written to the audit trail.

``protected_images_secure()`` keeps the files of images where their collection wants them
(images.py, docs/decisions/0019): an image of a restricted or 会員限定 collection has its
original and renditions in ``protected_images/`` under random names, any other image has
none there. It runs after every image save, after Wagtail's bulk actions, after changes of
collections and their restrictions (signals, on commit) and from
``manage.py setup_members_area``.
"""

import logging
import posixpath

from django.contrib.auth.models import Group
from django.core.files import File
from django.db import transaction
from wagtail.images import get_image_model
from wagtail.models import BaseViewRestriction, Collection, CollectionViewRestriction, PageViewRestriction

from kokasen.accounts import roles
from kokasen.core.audit import audit_record

from . import images as protected_images
from .access import READER_GROUPS

log = logging.getLogger(__name__)

MEMBERS_COLLECTION_NAME = "会員限定資料"


def _reader_groups() -> list[Group]:
    groups = roles.ensure_role_groups()
    return [groups[name] for name in READER_GROUPS]


def _ensure_restriction(model, owner_field: str, owner, groups, acting_user) -> bool:
    """One "groups" restriction on ``owner`` with exactly ``groups``; True if changed."""
    changed = False
    restrictions = list(model.objects.filter(**{owner_field: owner}))
    keep = next((r for r in restrictions if r.restriction_type == BaseViewRestriction.GROUPS), None)
    for restriction in restrictions:
        if restriction is not keep:
            restriction.delete()
            changed = True
    if keep is None:
        keep = model.objects.create(**{owner_field: owner}, restriction_type=BaseViewRestriction.GROUPS)
        changed = True
    if {g.pk for g in keep.groups.all()} != {g.pk for g in groups}:
        keep.groups.set(groups)
        changed = True
    if changed:
        audit_record(
            action="members.restriction_ensured",
            acting_user=acting_user,
            target=owner,
            detail={"groups": [g.name for g in groups], "removed_other_restrictions": len(restrictions) - 1 > 0},
        )
    return changed


def members_collection() -> Collection:
    """The collection 「会員限定資料」 (created, and marked protected, if missing)."""
    from .models import ProtectedCollection

    marked = ProtectedCollection.objects.select_related("collection").order_by("pk").first()
    if marked is not None:
        return marked.collection
    root = Collection.get_first_root_node()
    collection = root.get_children().filter(name=MEMBERS_COLLECTION_NAME).first()
    if collection is None:
        collection = root.add_child(name=MEMBERS_COLLECTION_NAME)
    ProtectedCollection.objects.create(collection=collection)
    return collection


@transaction.atomic
def members_area_secure(*, home=None, acting_user=None) -> int:
    """Ensure the area's view restrictions; returns how many were repaired."""
    from .models import MembersHomePage, ProtectedCollection

    groups = _reader_groups()
    repaired = 0
    members_collection()
    for marked in ProtectedCollection.objects.select_related("collection"):
        repaired += _ensure_restriction(CollectionViewRestriction, "collection", marked.collection, groups, acting_user)
    homes = [home] if home is not None else MembersHomePage.objects.all()
    for page in homes:
        repaired += _ensure_restriction(PageViewRestriction, "page", page, groups, acting_user)
    return repaired


def _copy(storage, old: str, new: str) -> str:
    with storage.open(old, "rb") as source:
        return storage.save(new, File(source, name=new))


def image_files_secure(image, *, protected: bool | None = None, acting_user=None) -> bool:
    """Move ``image``'s files to where its collection wants them; True if anything moved.

    Into protection: the original is copied to ``protected_images/<random>.<ext>``, the row
    points at the copy, and the public file and every rendition are deleted at once (a
    rollback would leave a row without its file, never a public copy). Out of protection:
    copied to ``original_images/<random>.<ext>``; the protected copy goes after the commit.
    Renditions are made again by Wagtail on the next request, next to their original.
    """
    if protected is None:
        protected = protected_images.is_protected_image(image)
    storage = image.file.storage
    old = image.file.name
    changed = False
    if protected != protected_images.is_protected_name(old):
        if not old or not storage.exists(old):
            log.warning("Image %s: file %r is missing; it cannot be moved.", image.pk, old)
        else:
            name_for = protected_images.protected_original_name if protected else protected_images.public_original_name
            new = _copy(storage, old, name_for(old))
            type(image).objects.filter(pk=image.pk).update(file=new)
            image.file.name = new
            if protected:
                storage.delete(old)
            else:
                transaction.on_commit(lambda: storage.delete(old))
            audit_record(
                action="members.image_protected" if protected else "members.image_unprotected",
                acting_user=acting_user,
                target=image,
                detail={"from": posixpath.dirname(old), "to": posixpath.dirname(new)},
            )
            changed = True
    misplaced = [
        rendition
        for rendition in image.renditions.all()
        if protected != protected_images.is_protected_rendition_name(rendition.file.name)
    ]
    for rendition in misplaced:
        name = rendition.file.name
        rendition.delete()  # Wagtail deletes the file after the commit and purges its cache
        if protected and name:
            rendition.file.storage.delete(name)  # a public rendition goes now
        changed = True
    return changed


def protected_images_secure(*, image_ids=None, acting_user=None) -> int:
    """``image_files_secure`` for every image (or those of ``image_ids``); returns how many
    images had files moved or renditions removed."""
    Image = get_image_model()
    queryset = Image.objects.select_related("collection").prefetch_related("renditions").order_by("pk")
    if image_ids is not None:
        queryset = queryset.filter(pk__in=list(image_ids))
    by_collection: dict[int, bool] = {}
    moved = 0
    for image in queryset:
        if image.collection_id not in by_collection:
            by_collection[image.collection_id] = protected_images.is_protected_image(image)
        moved += image_files_secure(image, protected=by_collection[image.collection_id], acting_user=acting_user)
    return moved
