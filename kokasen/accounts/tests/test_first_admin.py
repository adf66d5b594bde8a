"""create_first_admin: the first 管理者 that deploy/install.sh makes on a fresh installation
(decisions 0020 and 0029): a superuser in the 管理者 group, a generated password and a printed
invitation, which together lead to the authenticator app's QR code and into the admin."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from kokasen.accounts import roles
from kokasen.accounts.models import StaffEnrolmentInvitation
from kokasen.notifications.models import OutboxMessage

from .login_helpers import clean_cache, login  # noqa: F401
from .test_enrolment import SETUP, app_code, enrolled_then, path_of, secret_on

pytestmark = pytest.mark.django_db
User = get_user_model()


def run(*args) -> str:
    out = StringIO()
    call_command("create_first_admin", *args, stdout=out)
    return out.getvalue()


def test_the_installer_gets_a_working_first_admin_once(client):
    printed = dict(
        line.split("=", 1) for line in run("--username", "kanri", "--email", "kanri@example.go.jp").splitlines()
    )
    assert set(printed) == {"username", "password", "link", "expires"} and printed["username"] == "kanri"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", printed["expires"])
    user = User.objects.get(username="kanri")
    assert user.is_superuser and user.is_staff and user.email == "kanri@example.go.jp"
    assert roles.AGENCY_ADMIN in roles.group_names(user)
    invitation = StaffEnrolmentInvitation.objects.get(user=user)
    assert invitation.delivery == StaffEnrolmentInvitation.Delivery.PRINTED and invitation.issued_by_label.startswith(
        "インストーラー"
    )
    assert not OutboxMessage.objects.exists()  # printed, not mailed: there may be no working SMTP yet
    # The operator's steps from /etc/kokasen/first-admin.txt: the link, the password, the QR code.
    client.get(path_of(printed["link"]))
    assert login(client, "kanri", printed["password"])["Location"] == SETUP
    html = client.get(SETUP).content.decode()
    assert enrolled_then(client.post(SETUP, {"otp_token": app_code(secret_on(html))})) == "/admin/"
    assert client.get("/admin/").status_code == 200
    # Installed: a second first admin is refused.
    with pytest.raises(CommandError, match="すでにいます"):
        run("--username", "other", "--email", "other@example.go.jp")
    assert User.objects.filter(is_superuser=True).count() == 1


def test_it_needs_an_address_and_a_free_username():
    with pytest.raises(CommandError, match="--email"):
        run("--username", "kanri")
    User.objects.create_user("kanri", password="x" * 20)
    with pytest.raises(CommandError, match="すでにあります"):
        run("--username", "kanri", "--email", "kanri@example.go.jp")
    assert not User.objects.filter(is_superuser=True).exists()
