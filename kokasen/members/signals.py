"""Put the members area's restrictions back if someone removes or changes them."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from wagtail.models import CollectionViewRestriction, PageViewRestriction


def _resecure(**kwargs):
    from .services import members_area_secure

    transaction.on_commit(members_area_secure)


def _is_members_page_restriction(restriction) -> bool:
    from .models import MembersHomePage

    return MembersHomePage.objects.filter(pk=restriction.page_id).exists()


def _is_members_collection_restriction(restriction) -> bool:
    from .models import ProtectedCollection

    return ProtectedCollection.objects.filter(collection_id=restriction.collection_id).exists()


def page_restriction_changed(sender, instance, **kwargs):
    if kwargs.get("raw"):
        return
    if _is_members_page_restriction(instance):
        _resecure()


def collection_restriction_changed(sender, instance, **kwargs):
    if kwargs.get("raw"):
        return
    if _is_members_collection_restriction(instance):
        _resecure()


def restriction_groups_changed(sender, instance, action, **kwargs):
    if action not in ("post_remove", "post_clear"):
        return
    if isinstance(instance, PageViewRestriction) and _is_members_page_restriction(instance):
        _resecure()
    elif isinstance(instance, CollectionViewRestriction) and _is_members_collection_restriction(instance):
        _resecure()


def connect():
    for name, signal in (("delete", post_delete), ("save", post_save)):
        signal.connect(page_restriction_changed, sender=PageViewRestriction, dispatch_uid=f"members-page-{name}")
        signal.connect(
            collection_restriction_changed, sender=CollectionViewRestriction, dispatch_uid=f"members-collection-{name}"
        )
    for model in (PageViewRestriction, CollectionViewRestriction):
        m2m_changed.connect(
            restriction_groups_changed, sender=model.groups.through, dispatch_uid=f"members-groups-{model.__name__}"
        )
