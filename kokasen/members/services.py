"""Writes of the members area: keeping its restrictions in place.

``members_area_secure()`` is idempotent and runs whenever a MembersHomePage is saved, when
someone deletes one of the area's restrictions (signals.py), from ``load_demo`` and from
``manage.py setup_members_area``. It makes sure that

- every MembersHomePage has a "groups" PageViewRestriction to 自治体/管理者/受託者 (and no
  other kind of restriction: no shared password, no "any logged-in user");
- the collection 「会員限定資料」 exists, is marked protected, and every protected
  collection has the same "groups" CollectionViewRestriction.

Each repair is written to the audit trail.
"""

from django.contrib.auth.models import Group
from django.db import transaction
from wagtail.models import BaseViewRestriction, Collection, CollectionViewRestriction, PageViewRestriction

from kokasen.accounts import roles
from kokasen.core.audit import audit_record

from .access import READER_GROUPS

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
