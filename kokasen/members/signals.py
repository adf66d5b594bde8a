"""Put the members area's restrictions back if someone removes or changes them, and keep
the files of images where their collection wants them (images.py)."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save, pre_save
from wagtail.images import get_image_model
from wagtail.models import Collection, CollectionViewRestriction, PageViewRestriction

from . import images


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


def image_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    from .services import image_files_secure

    image_files_secure(instance)


def collections_changed(sender, instance=None, raw=False, **kwargs):
    """A collection moved in the tree, a restriction or a 会員限定 mark added or removed: any
    image below may have changed sides."""
    if raw:
        return
    from .services import protected_images_secure

    transaction.on_commit(protected_images_secure)


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

    from .models import ProtectedCollection

    Image = get_image_model()
    pre_save.connect(images.store_protected_upload, sender=Image, dispatch_uid="members-image-upload")
    post_save.connect(image_saved, sender=Image, dispatch_uid="members-image-saved")
    post_init.connect(
        images.store_rendition_with_its_original, sender=Image.get_rendition_model(), dispatch_uid="members-rendition"
    )
    post_save.connect(collections_changed, sender=Collection, dispatch_uid="members-images-collection")
    for name, signal in (("delete", post_delete), ("save", post_save)):
        for model in (CollectionViewRestriction, ProtectedCollection):
            signal.connect(collections_changed, sender=model, dispatch_uid=f"members-images-{model.__name__}-{name}")
