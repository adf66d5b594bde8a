"""What every custom Wagtail admin screen of ours shares: the page header with its breadcrumbs
(ホーム › parents › title); and the staff check of ``access.staff_required`` as a Wagtail
permission policy, for the screens made with Wagtail's ModelViewSet (decision 0024)."""

from django.db.models import Q
from django.urls import reverse
from wagtail.permission_policies import BasePermissionPolicy

from . import roles


def screen_context(title: str, *, icon: str, parents=(), **extra) -> dict:
    """The context Wagtail's admin base template reads for the header; ``parents`` are
    (url, label) pairs between ホーム and the title."""
    crumbs = [{"url": reverse("wagtailadmin_home"), "label": "ホーム"}]
    crumbs += [{"url": url, "label": label} for url, label in parents]
    crumbs.append({"url": "", "label": title})
    return {"page_title": title, "header_title": title, "header_icon": icon, "breadcrumbs_items": crumbs, **extra}


class StaffPermissionPolicy(BasePermissionPolicy):
    """Wagtail's permission policy for a model that only the staff roles handle in the admin:
    管理者 and 受託者 with TOTP passed (:func:`roles.is_staff_role`, what
    :func:`access.staff_required` asks) may do ``actions`` ("view", "add", "change", "delete") through Wagtail's generic views;
    nobody else, whatever Django permissions they hold. Register it with
    ``wagtail.permissions.register_permission_policy`` before the model's viewset."""

    def __init__(self, model, *, actions):
        super().__init__(model)
        self.actions = frozenset(actions)

    def user_has_permission(self, user, action):
        return action in self.actions and roles.is_staff_role(user)

    def users_with_any_permission(self, actions):
        from django.contrib.auth import get_user_model

        users = get_user_model().objects.filter(is_active=True)
        if not self.actions & set(actions):
            return users.none()
        return users.filter(Q(is_superuser=True) | Q(groups__name__in=roles.STAFF_GROUPS)).distinct()
