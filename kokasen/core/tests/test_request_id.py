"""The request id (kokasen/core/request_id.py): nginx's X-Request-ID is believed from a trusted
proxy only, and every log record written while answering a request carries it.
deploy/nginx is tested passing the same id in test_nginx_stack.py."""

import io
import logging
import re

import pytest
from django.conf import settings
from django.test import RequestFactory

from kokasen.core import request_id
from kokasen.core.request_id import RequestIdLogFilter, RequestIdMiddleware

NGINX_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"  # what nginx's $request_id looks like
NEW_ID = re.compile(r"^[0-9a-f]{32}$")


def handle(remote_addr, header=None, view=None):
    factory = RequestFactory()
    extra = {"REMOTE_ADDR": remote_addr}
    if header is not None:
        extra["HTTP_X_REQUEST_ID"] = header
    request = factory.get("/", **extra)
    seen = {}

    def get_response(request):
        seen["during"] = request_id.current()
        if view:
            view()
        from django.http import HttpResponse

        return HttpResponse("ok")

    RequestIdMiddleware(get_response)(request)
    return request, seen


@pytest.mark.parametrize("peer", ["127.0.0.1", "::1"])
def test_the_id_of_a_trusted_proxy_is_kept(peer):
    request, seen = handle(peer, NGINX_ID)
    assert request.request_id == seen["during"] == NGINX_ID
    assert request_id.current() == "-"  # reset after the response


@pytest.mark.parametrize(
    "peer,header",
    [
        ("203.0.113.5", NGINX_ID),  # not a trusted proxy: a client cannot choose its id
        ("127.0.0.1", "short"),
        ("127.0.0.1", "x" * 65),
        ("127.0.0.1", "abc def ghi jkl"),
        ("127.0.0.1", "0f1e2d3c\nforged log line"),
        ("127.0.0.1", "-" + NGINX_ID),
        ("127.0.0.1", ""),
        ("127.0.0.1", None),
    ],
)
def test_otherwise_the_app_makes_its_own(peer, header):
    request, seen = handle(peer, header)
    assert NEW_ID.match(request.request_id) and request.request_id != header
    assert seen["during"] == request.request_id


def test_a_trusted_load_balancer_uuid_is_kept(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1/32", "10.0.0.0/8"]
    request, _ = handle("10.1.2.3", "123e4567-e89b-12d3-a456-426614174000")
    assert request.request_id == "123e4567-e89b-12d3-a456-426614174000"


@pytest.fixture
def app_log():
    """The console handler of settings.LOGGING (its format and filter) into a buffer."""
    config = settings.LOGGING
    handler_config = config["handlers"]["console"]
    assert handler_config["filters"] == ["request_id"]
    assert config["filters"]["request_id"]["()"] == "kokasen.core.request_id.RequestIdLogFilter"
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter(config["formatters"][handler_config["formatter"]]["format"]))
    handler.addFilter(RequestIdLogFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)


def test_every_record_written_while_answering_carries_the_id(app_log):
    handle("127.0.0.1", NGINX_ID, view=lambda: logging.getLogger("kokasen.test").warning("inside the view"))
    logging.getLogger("kokasen.test").warning("outside any request")
    lines = app_log.getvalue().splitlines()
    assert any(f"[{NGINX_ID}] kokasen.test inside the view" in line for line in lines), lines
    assert any("[-] kokasen.test outside any request" in line for line in lines), lines


@pytest.mark.django_db
def test_django_request_log_of_an_error_response_carries_the_id(client, app_log):
    response = client.get("/no-such-page-for-the-request-id/", HTTP_X_REQUEST_ID=NGINX_ID)
    assert response.status_code == 404
    assert f"[{NGINX_ID}] django.request Not Found: /no-such-page-for-the-request-id/" in app_log.getvalue()


def test_the_middleware_comes_first():
    assert settings.MIDDLEWARE[0] == "kokasen.core.request_id.RequestIdMiddleware"
