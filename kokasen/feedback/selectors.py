"""Reads of the 意見箱 — for 管理者 and 受託者 only."""

from django.core.exceptions import PermissionDenied

from kokasen.accounts import roles

from .models import Opinion


def opinions_for_staff(*, user):
    """Every opinion, newest first, for 管理者 and 受託者 (PermissionDenied for anyone else). The
    admin list filters and searches it (admin_views.OpinionIndexView)."""
    if not roles.is_staff_role(user, verified=False):
        raise PermissionDenied
    return Opinion.objects.select_related("local_government", "handled_by").order_by("-created_at", "-pk")


def opinion_for_staff(*, user, pk: int) -> Opinion:
    return opinions_for_staff(user=user).get(pk=pk)
