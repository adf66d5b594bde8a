"""Defence in depth for staff two-factor login.

The login views never log a staff user in without the TOTP step, but a session could still
be authenticated without a verified device (a session from before two-factor was required,
a role granted while logged in, a future login path that forgets the step). Such a session
is sent to the TOTP step whenever it asks for an admin (``ADMIN_PATH_PREFIXES``).
Must come right after django_otp's OTPMiddleware, which adds ``user.is_verified()``.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from .two_factor import requires_two_factor


class StaffTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(settings.ADMIN_PATH_PREFIXES):
            user = request.user
            # is_verified() is cheap (session); requires_two_factor() asks the database.
            if user.is_authenticated and not user.is_verified() and requires_two_factor(user):
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('accounts:login_totp')}?{query}")
        return self.get_response(request)
