"""Bodies sent to the admins are refused before they are read (decision 0021).

A POST to an admin URL used to be read in full before anyone looked at who sent it:
CsrfViewMiddleware reads ``request.POST`` (for the csrfmiddlewaretoken field) before the view's
login check, and Django stores every file part of a multipart body in a temporary file. So an
anonymous 2 GB POST to /admin/documents/multiple/add/ was written to disk and only then refused.

These tests hand Django's request handler a WSGI environ whose ``wsgi.input`` makes a multipart
body on the fly and counts the bytes read from it, with a CSRF cookie as any visitor can get one.
"""

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.test.client import ClientHandler
from django.urls import reverse

from kokasen.accounts import roles
from kokasen.testing import login_member, login_staff, make_member, make_staff

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
BOUNDARY = "kokasen-upload-gate-test"


class CountingMultipartBody:
    """A multipart/form-data body of ``size`` bytes (one file part, zero bytes as content),
    produced as it is read; ``read_bytes`` says how much anybody read."""

    def __init__(self, size: int, field: str = "files[]", filename: str = "video.mp4"):
        self.head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        assert size > len(self.head) + len(self.tail)
        self.size = size
        self.read_bytes = 0

    def _byte_range(self, start: int, stop: int) -> bytes:
        filler_end = self.size - len(self.tail)
        out = bytearray()
        if start < len(self.head):
            out += self.head[start : min(stop, len(self.head))]
        lo, hi = max(start, len(self.head)), min(stop, filler_end)
        if hi > lo:
            out += bytes(hi - lo)
        if stop > filler_end:
            out += self.tail[max(start, filler_end) - filler_end : stop - filler_end]
        return bytes(out)

    def read(self, size: int = -1) -> bytes:
        remaining = self.size - self.read_bytes
        size = remaining if size is None or size < 0 else min(size, remaining)
        data = self._byte_range(self.read_bytes, self.read_bytes + size)
        self.read_bytes += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        remaining = self.size - self.read_bytes
        size = remaining if size is None or size < 0 else min(size, remaining)
        chunk = self._byte_range(self.read_bytes, self.read_bytes + size)
        newline = chunk.find(b"\n")
        data = chunk if newline < 0 else chunk[: newline + 1]
        self.read_bytes += len(data)
        return data


def test_the_counting_body_is_a_well_formed_multipart_body():
    body = CountingMultipartBody(3000)
    data = body.read()
    assert len(data) == 3000 and body.read_bytes == 3000 and body.read() == b""
    assert data.startswith(f"--{BOUNDARY}\r\n".encode()) and data.endswith(f"\r\n--{BOUNDARY}--\r\n".encode())


def post_body(path: str, body: CountingMultipartBody, *, session: str | None = None, content_length: int | None = None):
    """POST ``body`` to ``path`` through Django's full middleware stack with CSRF enforced."""
    secret = _get_new_csrf_string()
    cookie = f"csrftoken={secret}" + (f"; sessionid={session}" if session else "")
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "HTTP_COOKIE": cookie,
        "HTTP_X_CSRFTOKEN": secret,
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(body.size if content_length is None else content_length),
        "wsgi.input": body,
        "wsgi.url_scheme": "http",
        "wsgi.errors": None,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    return ClientHandler(enforce_csrf_checks=True)(environ)


def upload_paths() -> list[str]:
    """Every admin URL that takes a file (Wagtail's documents and images, their choosers and
    edit forms, a Django admin form, and our imports)."""
    return [
        reverse("wagtaildocs:add_multiple"),
        reverse("wagtaildocs:add"),
        reverse("wagtaildocs:edit", args=[1]),
        reverse("wagtaildocs_chooser:create"),
        reverse("wagtailimages:add_multiple"),
        reverse("wagtailimages:add"),
        reverse("wagtailimages:edit", args=[1]),
        reverse("wagtailimages_chooser:create"),
        reverse("admin:auth_group_add"),  # the Django admin takes no files, but any body is gated
        reverse("accounts_admin:import"),
        reverse("meetings_admin:center_list"),
        reverse("meetings_admin:roster", args=[1]),
        reverse("meetings_admin:report_survey", args=[1]),
        reverse("analytics_logs:upload"),
    ]


def session_of(persona: str) -> str | None:
    client = Client()
    if persona == "anonymous":
        return None
    if persona == "member":
        login_member(client, make_member())
    elif persona == "unverified staff":
        client.force_login(make_staff(roles.OPERATOR))  # password step only, no TOTP
    elif persona == "verified staff":
        login_staff(client, make_staff(roles.OPERATOR))
    return client.cookies["sessionid"].value


@pytest.mark.parametrize("persona", ["anonymous", "member", "unverified staff"])
def test_a_body_sent_to_an_admin_upload_url_without_a_verified_staff_session_is_never_read(persona):
    session = session_of(persona)
    for path in upload_paths():
        body = CountingMultipartBody(3 * MB)
        response = post_body(path, body, session=session)
        assert body.read_bytes == 0, f"{persona}: {path} read {body.read_bytes} bytes before refusing"
        assert response.status_code in (302, 403), (persona, path, response.status_code)


def wagtail_upload_paths() -> list[str]:
    return [path for path in upload_paths() if not path.startswith("/django-admin/")]


def test_a_refusal_is_in_japanese_and_closes_the_connection():
    body = CountingMultipartBody(3 * MB)
    response = post_body(reverse("wagtaildocs:add_multiple"), body)
    assert response.status_code == 403 and response["Connection"] == "close"
    text = response.content.decode()
    assert "二要素認証を済ませた職員" in text and "何も保存していません" in text
    assert "/login/?next=/admin/documents/multiple/add/" in text


def test_a_verified_staff_session_still_uploads_to_every_wagtail_admin_path():
    """The control: the same bodies are read in full (the views then answer as they do)."""
    session = session_of("verified staff")
    for path in wagtail_upload_paths():
        body = CountingMultipartBody(3 * MB)
        post_body(path, body, session=session)
        assert body.read_bytes == body.size, path


def test_the_django_admin_takes_bodies_only_from_verified_staff_with_is_staff():
    operator = Client()
    login_staff(operator, make_staff(roles.OPERATOR))  # may use Wagtail's admin, not Django's
    superuser = make_staff(roles.AGENCY_ADMIN)
    superuser.is_staff = superuser.is_superuser = True
    superuser.save()
    admin = Client()
    login_staff(admin, superuser)
    path = reverse("admin:auth_group_add")
    refused = CountingMultipartBody(3 * MB)
    assert post_body(path, refused, session=operator.cookies["sessionid"].value).status_code == 403
    assert refused.read_bytes == 0
    accepted = CountingMultipartBody(3 * MB)
    post_body(path, accepted, session=admin.cookies["sessionid"].value)
    assert accepted.read_bytes == accepted.size


@pytest.mark.parametrize("persona", ["anonymous", "verified staff"])
def test_a_body_over_the_largest_upload_is_refused_with_413_for_everyone(persona, settings):
    settings.VIDEO_MAX_UPLOAD_SIZE = 2 * MB
    settings.DOCUMENT_MAX_UPLOAD_SIZE = settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE = MB
    session = session_of(persona)
    body = CountingMultipartBody(3 * MB + 1)  # 2 MB + the 1 MB margin + 1 byte
    response = post_body(reverse("wagtaildocs:add_multiple"), body, session=session)
    assert (response.status_code, body.read_bytes) == (413, 0)
    assert response["Connection"] == "close" and "3 MB までです" in response.content.decode()
    within = CountingMultipartBody(3 * MB)
    post_body(reverse("wagtaildocs:add_multiple"), within, session=session)
    assert within.read_bytes == (within.size if persona == "verified staff" else 0)


def test_the_default_limits_are_2000_and_1_megabytes_for_the_admins_and_ten_megabytes_elsewhere():
    small = CountingMultipartBody(3 * MB)  # whatever is claimed, nothing may be read
    session = session_of("verified staff")
    claimed = 2000 * MB + MB + 1
    response = post_body(reverse("wagtaildocs:add_multiple"), small, session=session, content_length=claimed)
    assert (response.status_code, small.read_bytes) == (413, 0)
    for path in (reverse("accounts:login"), reverse("accounts:password_reset"), "/"):
        body = CountingMultipartBody(10 * MB + 1)
        response = post_body(path, body, session=session)
        assert (response.status_code, body.read_bytes) == (413, 0), path


def test_a_chunked_body_without_content_length_is_refused_on_admin_paths():
    body = CountingMultipartBody(3 * MB)
    handler_environ_extra = {"HTTP_TRANSFER_ENCODING": "chunked"}
    secret = _get_new_csrf_string()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": reverse("wagtaildocs:add_multiple"),
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "HTTP_COOKIE": f"csrftoken={secret}",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "wsgi.input": body,
        "wsgi.url_scheme": "http",
        **handler_environ_extra,
    }
    response = ClientHandler(enforce_csrf_checks=True)(environ)
    assert (response.status_code, body.read_bytes) == (403, 0)


# --- nginx's auth_request endpoint ---------------------------------------------------------------


def ask(client, uri: str, *, length: str = "", chunked: str = "", method: str = "get"):
    headers = {"X-Original-URI": uri, "X-Original-Content-Length": length, "X-Original-Transfer-Encoding": chunked}
    return getattr(client, method)(reverse("accounts:staff_upload_auth"), headers=headers).status_code


def test_the_auth_endpoint_answers_as_the_middleware_decides():
    upload = reverse("wagtaildocs:add_multiple")
    anonymous, member, unverified, operator = Client(), Client(), Client(), Client()
    login_member(member, make_member())
    unverified.force_login(make_staff(roles.OPERATOR))
    login_staff(operator, make_staff(roles.OPERATOR))
    # Requests without a body go on to the app, which redirects to the login page itself.
    assert ask(anonymous, upload) == ask(anonymous, upload, length="0") == 204
    assert ask(anonymous, upload, length="2147483648") == 401
    assert ask(anonymous, upload, chunked="chunked") == 401
    assert ask(member, upload, length="100") == 403
    assert ask(unverified, upload, length="100") == 403
    assert ask(operator, upload, length="2147483648") == 204
    assert ask(operator, "/django-admin/wagtaildocs/document/add/", length="100") == 403  # not is_staff
    assert ask(operator, "/members/", length="100") == 403  # not an admin path: never vouched for
    # nginx sends the subrequest as GET; a POST (other nginx settings) needs no CSRF token either.
    assert ask(anonymous, upload, length="100", method="post") == 401
    assert ask(operator, upload, length="100", method="post") == 204
