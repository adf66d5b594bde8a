"""django-otp's ``OTPMiddleware`` with one lazy layer around ``request.user`` instead of two
(issue 19).

Django's ``AuthenticationMiddleware`` sets ``request.user`` to a ``SimpleLazyObject`` that loads
the session's user; django-otp wraps that in a second one that adds ``otp_device`` and
``is_verified()``. Every attribute read of ``request.user`` (a members' page makes a few hundred:
templates, role checks, middleware) then passed through both proxies. Here the second one is
built on the loaded user itself: the same user, the same fields and the same checks
(``_verify_user_sync`` of django-otp, unchanged), loaded at the same moment (first use). A GET
or HEAD with a session cookie gets no proxy at all: its user is loaded here, once.
"""

from django.utils.functional import SimpleLazyObject, empty
from django_otp.middleware import OTPMiddleware as BaseOTPMiddleware

from kokasen.core import request_cache


class OTPMiddleware(BaseOTPMiddleware):
    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and request.method in ("GET", "HEAD") and request_cache.has_session_cookie(request):
            # A GET with a session reads its user anyway (a members' page, tens of times: the
            # role checks, the templates): the user itself, not a proxy whose every attribute
            # read costs a few function calls. Read here, inside the request's one round trip.
            request.user = self._verify_user_sync(request, user)
            return self.get_response(request)
        return super().__call__(request)

    def _verify_user_sync(self, request, user):
        if isinstance(user, SimpleLazyObject):
            if user._wrapped is empty:
                user._setup()
            user = user._wrapped
        return super()._verify_user_sync(request, user)
