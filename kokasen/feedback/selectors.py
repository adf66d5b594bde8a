"""Reads of the 意見箱 — for 管理者 and 受託者 only."""

from kokasen.accounts import access

from .models import Opinion


def opinions_for_staff(*, user):
    """Every opinion, newest first, for 管理者 and 受託者 (PermissionDenied for anyone else). The
    admin list filters and searches it (admin_views.OpinionIndexView)."""
    access.require(user, access.STAFF)
    return Opinion.objects.select_related("local_government", "handled_by").order_by("-created_at", "-pk")


def opinion_for_staff(*, user, pk: int) -> Opinion:
    return opinions_for_staff(user=user).get(pk=pk)
