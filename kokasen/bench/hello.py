"""The framework's floor for kokasen.bench.performance: a bare Django "hello" WSGI application
(no apps, no middleware, no database, one view) under the same gunicorn command line as the
portal (``gunicorn kokasen.bench.hello:application``). Not product code: nothing imports it."""

import secrets

from django.conf import settings
from django.http import HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY=secrets.token_urlsafe(50),
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    DATABASES={},
)


def hello(request):
    return HttpResponse("hello", content_type="text/plain; charset=utf-8")


urlpatterns = [path("", hello)]

from django.core.wsgi import get_wsgi_application  # noqa: E402 - after settings.configure()

application = get_wsgi_application()
