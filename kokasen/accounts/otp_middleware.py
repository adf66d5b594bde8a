"""django-otp's ``OTPMiddleware`` with one lazy layer around ``request.user`` instead of two
(issue 19).

Django's ``AuthenticationMiddleware`` sets ``request.user`` to a ``SimpleLazyObject`` that loads
the session's user; django-otp wraps that in a second one that adds ``otp_device`` and
``is_verified()``. Every attribute read of ``request.user`` (a members' page makes a few hundred:
templates, role checks, middleware) then passed through both proxies. Here the second one is
built on the loaded user itself: the same user, the same fields and the same checks
(``_verify_user_sync`` of django-otp, unchanged), loaded at the same moment (first use).
"""

from django.utils.functional import SimpleLazyObject, empty
from django_otp.middleware import OTPMiddleware as BaseOTPMiddleware


class OTPMiddleware(BaseOTPMiddleware):
    def _verify_user_sync(self, request, user):
        if isinstance(user, SimpleLazyObject):
            if user._wrapped is empty:
                user._setup()
            user = user._wrapped
        return super()._verify_user_sync(request, user)
