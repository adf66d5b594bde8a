"""Pages a local government uses itself: password reset by e-mail, and its account page.

The reset request never reveals whether a code exists: the same redirect and the same page
follow every well-formed code, the database work differs only by the queued message, and
requests are throttled per code and per client address (kokasen.core.throttle).
"""

from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from kokasen.core.audit import audit_record
from kokasen.core.client_address import client_ip, throttle_key
from kokasen.core.throttle import Limit

from . import services
from .access import member_required
from .forms_provisioning import PasswordResetRequestForm, accessible

# A local government rarely needs more than one link an hour; an address (a municipal
# network may share one) gets more, but not enough to flood anyone's mailbox.
RESET_PER_CODE = Limit("password-reset-code", limit=3, window=60 * 60)
RESET_PER_ADDRESS = Limit("password-reset-ip", limit=20, window=60 * 60)
NEW_PASSWORD_HINT = (
    "12文字以上にしてください。団体コードや団体名に似たもの、よく使われるもの、数字だけのものは使えません。"
)

PASSWORD_MISMATCH = "確認用のパスワードが新しいパスワードと一致しません。同じパスワードをもう一度入力してください。"


def _password_fields(form):
    """Autocomplete hints, and a plain-text hint instead of Django's HTML list. No autofocus
    (PasswordChangeForm puts one on the current password): on the account page the form sits
    below the account details, and focusing it would open the page scrolled past its heading."""
    for name, field in form.fields.items():
        field.widget.attrs["autocomplete"] = "current-password" if name == "old_password" else "new-password"
        field.widget.attrs.pop("autofocus", None)
    form.fields["new_password1"].help_text = NEW_PASSWORD_HINT
    form.fields["new_password2"].label = "新しいパスワード（確認用）"
    # Django's 「確認用パスワードが一致しません。」 names the error but not the fix (JIS X 8341-3 3.3.3).
    form.error_messages = {**form.error_messages, "password_mismatch": PASSWORD_MISMATCH}
    return form


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset_request(request):
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        address = throttle_key(client_ip(request)) or "unknown"
        if RESET_PER_ADDRESS.record(address) > RESET_PER_ADDRESS.limit:
            response = render(request, "accounts/password_reset_throttled.html", status=429)
            response["Retry-After"] = str(RESET_PER_ADDRESS.window)
            return response
        code = form.cleaned_data["code"]
        within_limit = RESET_PER_CODE.record(code) <= RESET_PER_CODE.limit
        user = (
            get_user_model()
            .objects.filter(username=code, local_government__isnull=False, is_active=True)
            .select_related("local_government")
            .first()
        )
        if user is not None and within_limit and user.registered_addresses.exists():
            services.password_reset_request(user=user, request=request)
        else:
            # Also recorded, so that both paths write to the database (and staff see probing).
            audit_record(
                action="account.password_reset_not_sent",
                target_label=code,
                request=request,
                detail={"throttled": not within_limit},
            )
        return redirect("accounts:password_reset_done")
    return render(request, "accounts/password_reset_request.html", {"form": accessible(form)})


def password_reset_done(request):
    return render(request, "accounts/password_reset_done.html")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        # Only active local-government accounts reset their password by e-mail.
        if user is None or user.local_government_id is None or not user.is_active:
            return None
        return user

    def get_form(self, form_class=None):
        return _password_fields(super().get_form(form_class))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if context.get("form") is not None:
            accessible(context["form"])
        return context

    def form_valid(self, form):
        services.account_password_set(form=form, request=self.request, action="account.password_reset_completed")
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


def password_reset_complete(request):
    return render(request, "accounts/password_reset_complete.html")


@sensitive_post_parameters()
@never_cache
@member_required  # staff manage their account in the admin
@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    form = _password_fields(PasswordChangeForm(user, request.POST or None))
    if request.method == "POST" and form.is_valid():
        services.account_password_set(form=form, acting_user=user, request=request, action="account.password_changed")
        update_session_auth_hash(request, user)
        messages.success(request, "パスワードを変更しました。次回から新しいパスワードでログインしてください。")
        return redirect("accounts:profile")
    context = {
        "form": accessible(form),
        "local_government": user.local_government,
        "addresses": [a.address for a in user.registered_addresses.all()],
    }
    return render(request, "accounts/profile.html", context)
