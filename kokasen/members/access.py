"""Who may read the members area (会員エリア) and its files, and what everyone else gets.

Readers are real users in one of three groups: 自治体 (a local government's shared login),
管理者 and 受託者 (personal staff accounts), plus superusers. Staff must also have passed
the TOTP step (django-otp marks the request user ``is_verified()``): a staff session that
stopped after the password is treated like a visitor who has not logged in.

Wagtail's own view restrictions (a ``PageViewRestriction`` / ``CollectionViewRestriction``
of type "groups", kept in place by ``services.members_area_secure``) are the first check;
this module is the second one, used by the members pages' ``serve()``, by the
document-serving hook and by the image view (``collection_item_refusal``), so that nothing
of the area renders to others even if an editor removed a restriction.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from kokasen.accounts import roles

READER_GROUPS = (roles.MEMBER, roles.AGENCY_ADMIN, roles.OPERATOR)


def can_read_members_area(user) -> bool:
    """True for an active, logged-in member of 自治体/管理者/受託者 (staff: TOTP passed)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if roles.requires_two_factor(user):  # anyone who could enter an admin counts as staff here
        return roles.is_verified(user)
    return roles.MEMBER in roles.group_names(user)


def refuse(request):
    """The answer to someone who may not read the area: the login page for visitors (and
    staff who have not finished the TOTP step), a plain 403 page for other accounts."""
    user = request.user
    if not user.is_authenticated or (user.is_active and roles.requires_two_factor(user)):
        response = redirect_to_login(request.get_full_path(), settings.WAGTAIL_FRONTEND_LOGIN_URL)
    else:
        response = TemplateResponse(request, "members/forbidden.html", status=403)
    add_never_cache_headers(response)
    return response


def members_area_required(view):
    """For the views of the members area outside Wagtail's pages (the 小ネタ board, the 意見箱
    form): readers of the area only (``can_read_members_area``: members and staff who passed the
    TOTP step), everyone else ``refuse``d; the answers are never cached by shared caches (private
    content). The fourth word of the access vocabulary (``kokasen.accounts.access``, decision 0026)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not can_read_members_area(request.user):
            return refuse(request)
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    return wrapped


def collection_item_refusal(item, request, *, wagtail_checked: bool = False):
    """The check on every file of a collection, a document or an image: None if the request
    may have it, else the refusal (``refuse``).

    1. Wagtail's view restrictions of the item's collection and its ancestors (``accept_request``),
       answered as Wagtail's document hook answers a group or login restriction: the login page,
       also for a logged-in user outside the groups. (The document view has run Wagtail's own
       hook already: ``wagtail_checked``. Password restrictions are never used here, so an
       image gets no password form.)
    2. Ours: an item of a restricted or 会員限定 collection only for members-area readers, even
       if its restriction was removed or lets other users in.
    """
    from .models import is_restricted_collection

    collection = item.collection
    if not wagtail_checked:
        for restriction in collection.get_view_restrictions():
            if not restriction.accept_request(request):
                response = redirect_to_login(request.get_full_path(), settings.WAGTAIL_FRONTEND_LOGIN_URL)
                add_never_cache_headers(response)
                return response
    if is_restricted_collection(collection) and not can_read_members_area(request.user):
        return refuse(request)
    return None
