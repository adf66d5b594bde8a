"""Wagtail admin screen 「回復コード」 (``/admin/recovery-codes/``; decision 0053): how many of
one's own one-time recovery codes are left, and making new ones (a POST after a confirmation;
the new codes are shown once, in that response). Linked from Wagtail's account screen.

Staff with a verified TOTP session only (``access.staff_required``): each person handles only
their own codes; a 管理者 resets somebody else's in 「職員の二要素認証」.
"""

from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from kokasen.core import refusals
from kokasen.core.refusals import Refused

from . import recovery_codes, services
from .access import staff_required
from .admin_screens import screen_context

TITLE = "回復コード"


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def recovery_codes_screen(request):
    codes = None
    if request.method == "POST":
        try:
            codes = services.recovery_codes_issue(user=request.user, request=request, reason="regenerated")
        except Refused as refused:
            refusals.show_as_messages(request, refused)
    context = screen_context(
        TITLE,
        icon="key",
        parents=[(reverse("wagtailadmin_account"), "アカウント")],
        codes=codes,
        remaining=recovery_codes.remaining(request.user),
        count=recovery_codes.COUNT,
    )
    return TemplateResponse(request, "accounts/admin/recovery_codes.html", context)
