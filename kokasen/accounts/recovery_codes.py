"""One-time recovery codes for staff who cannot use their authenticator app (decision 0053).

django-otp's ``otp_static`` holds them: one ``StaticDevice`` per user (name 「回復コード」) with
one ``StaticToken`` per unused code. ``otp_static`` itself stores the codes as typed (plain
text, 16 characters at most); we store a keyed digest instead, so that a copy of the database
(a backup, a dump) gives nobody a usable code: ``salted_hmac`` with ``SECRET_KEY``, 16 hex
characters (64 bits). The code typed at the login step is normalised, digested the same way and
handed to ``StaticDevice.verify_token``, which deletes the matching token (used once) and keeps
django-otp's own throttle; the device row is locked first, so two concurrent requests cannot
both use one code. A code is shown once, when it is made, and never again.

Changing ``SECRET_KEY`` makes every stored code unusable (staff then make new ones from
「回復コード」, or a 管理者 resets their device).
"""

import re
import secrets
import unicodedata

from django.db import transaction
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

COUNT = 10
DEVICE_NAME = "回復コード"
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper and typed by hand
_LENGTH = 10  # 31**10 ≈ 2**49.5 per code; only together with the password, and throttled
_SALT = "kokasen.accounts.recovery_codes"


def normalise(typed: str) -> str:
    """What a person typed (full-width, upper case, spaces or hyphens) as the stored form's input."""
    return re.sub(r"[\s\-‐－ー−]+", "", unicodedata.normalize("NFKC", typed or "")).lower()


def digest(typed: str) -> str:
    return salted_hmac(_SALT, normalise(typed), algorithm="sha256").hexdigest()[:16]


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def device_for(user) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def remaining(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def replace(user) -> list[str]:
    """New codes for ``user``; every earlier code stops working. Returns them (shown once).
    The device itself is kept: a session that logged in with one of the old codes stays
    verified (django-otp finds its device by id)."""
    device = StaticDevice.objects.filter(user=user).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.token_set.all().delete()
    device.throttle_reset(commit=False)
    device.name, device.confirmed = DEVICE_NAME, True
    device.save()
    codes = [_new_code() for _ in range(COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=digest(code)) for code in codes])
    return codes


def delete_all(user) -> int:
    """Remove the user's recovery codes (a device reset). Returns how many unused codes were removed."""
    count = remaining(user)
    StaticDevice.objects.filter(user=user).delete()
    return count


def remaining_message(left: int) -> str:
    """The notice after a code was used: how many remain, and what to do when few do."""
    if left == 0:
        return (
            "回復コードでログインしました。使える回復コードはもう残っていません。"
            "管理画面の「アカウント」の画面（メニューの下のご自身の名前から開きます）の「回復コード」で、新しい回復コードを作成してください。"
        )
    text = f"回復コードでログインしました。使える回復コードは残り{left}個です。"
    if left <= 3:
        text += "残りが少なくなっています。管理画面の「アカウント」の画面の「回復コード」で、新しい回復コードを作成できます。"
    return text


def throttled(device: StaticDevice) -> bool:
    allowed, _info = device.verify_is_allowed()
    return not allowed


@transaction.atomic
def use(device: StaticDevice, typed: str) -> bool:
    """Use one code of ``device``: True once for each code, then never again."""
    locked = StaticDevice.objects.select_for_update().filter(pk=device.pk).first()
    if locked is None:
        return False
    used = locked.verify_token(digest(typed))
    device.refresh_from_db()
    return used
