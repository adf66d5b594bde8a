"""Reads of the 意見箱 — for 管理者 and 受託者 only."""

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from kokasen.accounts import roles

from .models import Opinion


def opinions_for_staff(*, user, status: str = "", category: str = "", query: str = ""):
    if not roles.is_staff_role(user, verified=False):
        raise PermissionDenied
    opinions = Opinion.objects.select_related("local_government", "handled_by")
    if status in Opinion.Status.values:
        opinions = opinions.filter(status=status)
    if category in Opinion.Category.values:
        opinions = opinions.filter(category=category)
    if query:
        opinions = opinions.filter(Q(body__icontains=query) | Q(local_government__name__contains=query))
    return opinions.order_by("-created_at", "-pk")


def opinion_for_staff(*, user, pk: int) -> Opinion:
    return opinions_for_staff(user=user).get(pk=pk)
