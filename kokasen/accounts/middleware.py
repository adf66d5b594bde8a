"""Defence in depth for staff two-factor login.

The login views never log a staff user in without the TOTP step, but a session could still
be authenticated without a verified device (a session from before two-factor was required,
a role granted while logged in, a future login path that forgets the step). Such a session
is sent to the TOTP step whenever it asks for an admin (``ADMIN_PATH_PREFIXES``).
Must come right after django_otp's OTPMiddleware, which adds ``user.is_verified()``.
"""

from django.conf import settings

from .access import totp_step
from .roles import requires_two_factor


class StaffTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(settings.ADMIN_PATH_PREFIXES):
            user = request.user
            # is_verified() is cheap (session); requires_two_factor() asks the database.
            if user.is_authenticated and not user.is_verified() and requires_two_factor(user):
                return totp_step(request)
        return self.get_response(request)
