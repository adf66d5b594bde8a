"""The one login page for everyone, the staff TOTP step, logout, and the lockout pages.

Local governments: user ID + password → logged in. Staff (two_factor.requires_two_factor):
password → pending (not logged in) → TOTP code (or enrolment of a first device) → logged in.
Throttled addresses and locked accounts get a Japanese page with status 429.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from kokasen.core.audit import client_ip

from . import enrolment, lockout, services, two_factor, views_enrolment
from .login_audit import STAGE_TOTP, record_attempt
from .login_forms import LoginForm, TOTPForm

TOO_MANY_STATUS = 429


def _safe_next(request, value: str | None) -> str | None:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return None


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' lockout page (AXES_LOCKOUT_CALLABLE). It says the same for an account
    that does not exist: axes counts failures per user ID as typed."""
    two_factor.clear_pending(request)
    context = {"cool_off_minutes": lockout.cool_off_minutes()}
    return render(request, "accounts/locked_out.html", context, status=TOO_MANY_STATUS)


def throttled_response(request):
    context = {"window_minutes": lockout.address_window_minutes()}
    return render(request, "accounts/throttled.html", context, status=TOO_MANY_STATUS)


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm

    def post(self, request, *args, **kwargs):
        if lockout.address_throttled(client_ip(request)):
            record_attempt(request, action="login.throttled", username=request.POST.get("username", "").strip())
            return throttled_response(request)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        if not two_factor.requires_two_factor(user):
            self.request.kokasen_login_method = "password"
            return super().form_valid(form)  # auth_login(), then the safe next or /members/
        if self.request.user.is_authenticated:
            auth_logout(self.request)  # another account was logged in in this browser
        next_url = self.get_redirect_url() or reverse("wagtailadmin_home")
        two_factor.start_pending(self.request, user, next_url=next_url)
        has_device = two_factor.confirmed_devices(user).exists()
        record_attempt(
            self.request, action="login.password_accepted", username=user.get_username(), user=user,
            next_step="totp" if has_device else "totp_setup",
        )
        return redirect("accounts:login_totp" if has_device else "accounts:login_totp_setup")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["cool_off_minutes"] = lockout.cool_off_minutes()
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        return context


class _TOTPStep:
    """What the TOTP step and the enrolment step share."""

    def __init__(self, request):
        self.request = request
        self.user = two_factor.pending_user(request)

    def remember_next(self):
        safe = _safe_next(self.request, self.request.GET.get("next"))
        if safe:
            self.request.session[two_factor.PENDING_NEXT] = safe

    def refusal(self):
        """A response if this attempt must not even be checked (address or account)."""
        request, username = self.request, self.user.get_username()
        if lockout.address_throttled(client_ip(request)):
            record_attempt(request, action="login.throttled", username=username, user=self.user, stage=STAGE_TOTP)
            two_factor.clear_pending(request)
            return throttled_response(request)
        if lockout.account_locked(request, username):
            record_attempt(request, action="login.locked_out", username=username, user=self.user, stage=STAGE_TOTP)
            lockout.record_address_failure(client_ip(request))
            return lockout_response(request)
        return None

    def failed(self, form, *, reason: str, message: str):
        """Count a refused code like a wrong password: axes (account) and the address."""
        credentials = {"username": self.user.get_username(), "stage": STAGE_TOTP, "reason": reason}
        user_login_failed.send(sender=__name__, credentials=credentials, request=self.request)
        if getattr(self.request, "axes_locked_out", False):
            two_factor.clear_pending(self.request)  # AxesMiddleware answers with the lockout page
        form.add_error("otp_token", message)

    def complete(self, device):
        request, user = self.request, self.user
        next_url = two_factor.pending_next(request)
        backend = two_factor.pending_backend(request, user)
        two_factor.clear_pending(request)
        request.kokasen_login_method = "password+totp"
        auth_login(request, user, backend=backend)
        otp_login(request, device)
        return redirect(next_url)


def _restart(request):
    return redirect(reverse("accounts:login") + "?" + urlencode({"expired": "1"}))


def _throttle_message(devices) -> str | None:
    for device in devices:
        allowed, info = device.verify_is_allowed()
        if not allowed and info and info.get("locked_until"):
            return (
                "確認コードの入力に続けて失敗したため、しばらく入力を受け付けません。"
                f"{timezone.localtime(info['locked_until']):%H:%M:%S}以降に、新しいコードを入力してください。"
            )
    return None


WRONG_CODE = "確認コードが正しくありません。認証アプリに表示されている最新の6桁を入力してください。"


@sensitive_post_parameters("otp_token")
@csrf_protect
@never_cache
def login_totp(request):
    step = _TOTPStep(request)
    if step.user is None:
        return _restart(request)
    devices = list(two_factor.confirmed_devices(step.user))
    if not devices:
        return redirect("accounts:login_totp_setup")
    step.remember_next()
    form = TOTPForm(request.POST or None)
    if request.method == "POST":
        refused = step.refusal()
        if refused is not None:
            return refused
        if form.is_valid():
            throttled = _throttle_message(devices)
            if throttled:
                step.failed(form, reason="device_throttled", message=throttled)
            else:
                token = form.cleaned_data["otp_token"]
                device = next((d for d in devices if d.verify_token(token)), None)
                if device is not None:
                    return step.complete(device)
                step.failed(form, reason="wrong_code", message=WRONG_CODE)
    return render(request, "accounts/login_totp.html", {"form": form, "pending_user": step.user})


@sensitive_post_parameters("otp_token")
@csrf_protect
@never_cache
def login_totp_setup(request):
    """First TOTP device of a staff user who passed the password step in this session, only
    with a usable invitation for that user opened in this session (decision 0020). Never a
    second one: a user who already has a confirmed device goes to the code step."""
    step = _TOTPStep(request)
    if step.user is None:
        return _restart(request)
    if two_factor.confirmed_devices(step.user).exists():
        return redirect("accounts:login_totp")
    invitation, reason = enrolment.in_session(request, step.user)
    if invitation is None or not two_factor.password_step_passed(request, step.user):
        return views_enrolment.enrolment_refused(request, step.user, reason=reason or enrolment.NO_PASSWORD_STEP)
    step.remember_next()
    device = two_factor.setup_device(request, step.user)
    form = TOTPForm(request.POST or None)
    if request.method == "POST":
        refused = step.refusal()
        if refused is not None:
            return refused
        if form.is_valid():
            throttled = _throttle_message([device])
            if throttled:
                step.failed(form, reason="device_throttled", message=throttled)
            elif device.verify_token(form.cleaned_data["otp_token"]):
                if not services.totp_device_enrol(device=device, invitation=invitation, request=request):
                    # Revoked, expired or used in another browser since this page was shown.
                    return views_enrolment.enrolment_refused(request, step.user, reason=enrolment.problem_now(invitation))
                return step.complete(device)
            else:
                step.failed(form, reason="wrong_code", message=WRONG_CODE)
    context = {
        "form": form,
        "pending_user": step.user,
        "qr_data_uri": two_factor.qr_data_uri(device),
        "secret": two_factor.secret_for_display(device),
        "issuer": settings.OTP_TOTP_ISSUER,
    }
    return render(request, "accounts/login_totp_setup.html", context)


class LogoutView(auth_views.LogoutView):
    """POST only (Django's LogoutView answers GET with 405); shows 「ログアウトしました」."""

    template_name = "accounts/logged_out.html"


def admin_login_redirect(request):
    """Wagtail's /admin/login/ and Django admin's /django-admin/login/ offer no way in of
    their own: both send the visitor to the one login page, keeping a safe ``next``."""
    url = reverse("accounts:login")
    next_url = _safe_next(request, request.GET.get("next"))
    if next_url:
        url += "?" + urlencode({"next": next_url})
    return redirect(url)
