"""The version of the members area as its pages show it (issue 19).

Cached routes, view restrictions, page objects and rendered bodies of the members area are
kept under keys that contain ``generation()``: a token in the shared cache that is replaced
whenever something they show may have changed. Replaced immediately and again when the
transaction commits (a request that read the old rows in between cannot keep them under the
new token), by the receivers below:

- any page saved, deleted, published, unpublished or moved (scheduled publishing included:
  it publishes a revision);
- a page view restriction saved or deleted, or its groups changed;
- a document, collection, collection view restriction or 会員限定 mark saved or deleted;
- a site saved or deleted, a local government's row saved (names on the initiative pages).

Entries also expire after ``SECONDS``, so a change that sends no signal (a queryset update in a
script) shows within that time anyway. Reading the token is one round trip to the shared cache
per request; when the cache is down, ``generation()`` is empty and nothing is cached.
"""

from kokasen.core.generations import Generation

KEY = "members:generation"
SECONDS = 60
_generation = Generation(KEY)


def generation(request=None) -> str:
    """The current token ("" when the shared cache is down: then cache nothing). With a
    request, read once per request."""
    if request is not None:
        known = getattr(request, "_kokasen_members_generation", None)
        if known is not None:
            return known
    value = _generation.current()  # prefetched with the request's other keys
    if request is not None:
        request._kokasen_members_generation = value
    return value


def prefetch_keys(request) -> list[str]:
    """The members area's pages read the generation (``core.request_cache``)."""
    return [KEY] if request.path.startswith("/members/") else []


def changed(*args, **kwargs) -> None:
    """A signal receiver: start a new generation now and once more when the transaction commits."""
    action = kwargs.get("action")
    if action is not None and not action.startswith("post_"):
        return
    _generation.changed()


def connect() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from wagtail.documents import get_document_model
    from wagtail.models import Collection, CollectionViewRestriction, Page, PageViewRestriction, Site
    from wagtail.signals import page_published, page_unpublished, post_page_move

    from kokasen.localgov.models import LocalGovernment

    from .models import ProtectedCollection

    def model_changed(sender, instance, **kwargs):
        if isinstance(instance, Page):
            changed()

    post_save.connect(model_changed, weak=False, dispatch_uid="members-version-page-save")
    post_delete.connect(model_changed, weak=False, dispatch_uid="members-version-page-delete")
    models = (
        PageViewRestriction,
        CollectionViewRestriction,
        Collection,
        ProtectedCollection,
        get_document_model(),
        Site,
        LocalGovernment,
    )
    for model in models:
        post_save.connect(changed, sender=model, dispatch_uid=f"members-version-{model.__name__}-save")
        post_delete.connect(changed, sender=model, dispatch_uid=f"members-version-{model.__name__}-delete")
    for model in (PageViewRestriction, CollectionViewRestriction):
        m2m_changed.connect(
            changed, sender=model.groups.through, dispatch_uid=f"members-version-{model.__name__}-groups"
        )
    page_published.connect(changed, dispatch_uid="members-version-published")
    page_unpublished.connect(changed, dispatch_uid="members-version-unpublished")
    post_page_move.connect(changed, dispatch_uid="members-version-moved")
