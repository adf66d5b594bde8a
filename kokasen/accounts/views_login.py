"""The one login page for everyone, the staff TOTP step, logout, and the lockout pages.

Local governments: user ID + password → logged in. Staff (two_factor.requires_two_factor):
password → pending (not logged in) → TOTP code (or enrolment of a first device) → logged in.
Attempts the login defences refuse (kokasen/accounts/lockout.py) get a Japanese page with
status 429, before any password or code is checked.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from . import enrolment, lockout, recovery_codes, services, two_factor, views_enrolment
from .login_audit import STAGE_TOTP, record_attempt
from .login_forms import LoginForm, RecoveryCodeForm, TOTPForm

TOO_MANY_STATUS = 429


def _safe_next(request, value: str | None) -> str | None:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return None


def refused_response(request, refused: lockout.Refusal):
    """The page for a refused attempt. It is the same for a user ID that does not exist (the
    counters count user IDs as typed) and does not repeat the ID."""
    two_factor.clear_pending(request)
    template = "accounts/throttled.html" if refused is lockout.Refusal.ADDRESS else "accounts/locked_out.html"
    context = {"window_minutes": lockout.window_minutes(refused), "reason": refused.value}
    response = render(request, template, context, status=TOO_MANY_STATUS)
    response["Retry-After"] = str(lockout.window_minutes(refused) * 60)
    return response


def _refuse_if_needed(request, attempt: lockout.Attempt, *, user=None, stage: str | None = None):
    refused = lockout.refusal(attempt, request)
    if refused is None:
        return None
    action = "login.throttled" if refused is lockout.Refusal.ADDRESS else "login.locked_out"
    extra = {"stage": stage} if stage else {}
    record_attempt(request, action=action, username=attempt.username, user=user, reason=refused.value, **extra)
    return refused_response(request, refused)


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm

    def post(self, request, *args, **kwargs):
        request.kokasen_attempt = lockout.attempt_for(request, request.POST.get("username", ""))
        refused = _refuse_if_needed(request, request.kokasen_attempt)
        if refused is not None:
            return refused
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        if not two_factor.requires_two_factor(user):
            self.request.kokasen_login_method = "password"
            response = super().form_valid(form)  # auth_login(), then the safe next or /members/
            lockout.remember_device(self.request, response, user.get_username())
            return response
        if self.request.user.is_authenticated:
            auth_logout(self.request)  # another account was logged in in this browser
        next_url = self.get_redirect_url() or reverse("wagtailadmin_home")
        two_factor.start_pending(self.request, user, next_url=next_url)
        has_device = two_factor.confirmed_devices(user).exists()
        record_attempt(
            self.request,
            action="login.password_accepted",
            username=user.get_username(),
            user=user,
            next_step="totp" if has_device else "totp_setup",
        )
        return redirect("accounts:login_totp" if has_device else "accounts:login_totp_setup")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["pair_window_minutes"] = lockout.window_minutes(lockout.Refusal.PAIR)
        context["failure_limit"] = settings.LOGIN_PAIR_FAILURE_LIMIT
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

    def attempt(self) -> lockout.Attempt:
        return lockout.attempt_for(self.request, self.user.get_username())

    def refusal(self):
        """A response if this attempt must not even be checked (address, place or account)."""
        return _refuse_if_needed(self.request, self.attempt(), user=self.user, stage=STAGE_TOTP)

    def failed(self, form, *, reason: str, message: str, field: str = "otp_token"):
        """Count a refused code like a wrong password, in the audit trail and the throttles."""
        record_attempt(
            self.request,
            action="login.totp_failed",
            username=self.user.get_username(),
            user=None,
            stage=STAGE_TOTP,
            reason=reason,
        )
        lockout.record_failure(self.attempt(), self.request)
        form.add_error(field, message)

    def complete(self, device, *, method: str = "password+totp"):
        request, user = self.request, self.user
        next_url = two_factor.pending_next(request)
        backend = two_factor.pending_backend(request, user)
        two_factor.clear_pending(request)
        request.kokasen_login_method = method
        auth_login(request, user, backend=backend)
        otp_login(request, device)
        response = redirect(next_url)
        lockout.remember_device(request, response, user.get_username())
        return response


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
                    return views_enrolment.enrolment_refused(
                        request, step.user, reason=enrolment.problem_now(invitation)
                    )
                return _complete_with_recovery_codes(request, step, device)
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


def _complete_with_recovery_codes(request, step, device):
    """The enrolment is done: log in, and show the new recovery codes once, in this response
    (they are never stored in the session or anywhere else readable; decision 0053)."""
    user = step.user
    codes = services.recovery_codes_issue(user=user, request=request, reason="enrolment")
    next_url = step.complete(device).url
    response = render(
        request, "accounts/recovery_codes_shown.html", {"codes": codes, "next_url": next_url, "enrolled": True}
    )
    lockout.remember_device(request, response, user.get_username())
    return response


WRONG_RECOVERY_CODE = "回復コードが正しくないか、すでに使われています。登録時に控えた回復コードのうち、まだ使っていないものを入力してください。"


@sensitive_post_parameters("recovery_code")
@csrf_protect
@never_cache
def login_totp_recovery(request):
    """The second step with a one-time recovery code instead of the app's code (decision 0053).
    Counted by the same defences as a wrong TOTP code (lockout.py), before and after."""
    step = _TOTPStep(request)
    if step.user is None:
        return _restart(request)
    if not two_factor.confirmed_devices(step.user).exists():
        return redirect("accounts:login_totp_setup")
    form = RecoveryCodeForm(request.POST or None)
    if request.method == "POST":
        refused = step.refusal()
        if refused is not None:
            return refused
        if form.is_valid():
            device = recovery_codes.device_for(step.user)
            if device is not None and recovery_codes.throttled(device):
                step.failed(
                    form,
                    reason="device_throttled",
                    message="回復コードの入力に続けて失敗したため、しばらく入力を受け付けません。時間をおいてから入力してください。",
                    field="recovery_code",
                )
            else:
                left = services.recovery_code_use(
                    user=step.user, typed=form.cleaned_data["recovery_code"], request=request
                )
                if left is not None:
                    response = step.complete(device, method="password+recovery_code")
                    messages.warning(request, recovery_codes.remaining_message(left))
                    return response
                step.failed(form, reason="wrong_recovery_code", message=WRONG_RECOVERY_CODE, field="recovery_code")
    return render(request, "accounts/login_totp_recovery.html", {"form": form, "pending_user": step.user})


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
