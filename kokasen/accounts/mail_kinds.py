"""The e-mails of the accounts app (notices.py queues them) and how their secrets are written.

The credential, reissue and reset notices are editable by staff (スニペット → メールの文面) with
the placeholders below; each carries one secret slot, which the sender fills at send time with
the filler registered here: the password from the message's nonce (credentials.py), the reset
link from the local government's account. Nothing else ever gets a secret (decision 0017).
"""

from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from kokasen.notifications import emails

from . import credentials

CREDENTIALS = "credentials"
PASSWORD_REISSUED = "password_reissued"
PASSWORD_RESET = "password_reset"
STAFF_ENROLMENT_INVITATION = "staff_enrolment_invitation"
PASSWORD_SLOT = "password"
RESET_URL_SLOT = "reset-url"

# Filled in when the message is queued (notices.py).
COMMON = {
    "団体名": "都道府県名を含む団体名（例：北海道札幌市）",
    "ユーザーID": "ログインに使う団体コード（6桁）",
    "ログインURL": "ログイン画面のURL",
    "アカウントURL": "アカウント情報（パスワード変更）画面のURL",
    "再設定申込URL": "パスワードを忘れたときの再設定申込画面のURL",
    emails.CONTACT_PLACEHOLDER: "運営事務局の「お問い合わせ」ページのURL（送信時に記入）",
}
SUBJECT = ("団体名", "ユーザーID")
PASSWORD = "パスワード"
RESET_URL = "再設定URL"
RESET_VALID = "有効期限"

emails.register(
    emails.Kind(
        CREDENTIALS,
        "アカウント発行のお知らせ（初期パスワード）",
        slot=PASSWORD_SLOT,
        editable=emails.Editable(
            placeholders={**COMMON, PASSWORD: "初期パスワード（送信時に記入）"},
            required=("ユーザーID", PASSWORD, "ログインURL"),
            subject=SUBJECT,
            secret=PASSWORD,
        ),
    )
)
emails.register(
    emails.Kind(
        PASSWORD_REISSUED,
        "パスワード再発行のお知らせ",
        slot=PASSWORD_SLOT,
        editable=emails.Editable(
            placeholders={**COMMON, PASSWORD: "新しいパスワード（送信時に記入）"},
            required=("ユーザーID", PASSWORD, "ログインURL"),
            subject=SUBJECT,
            secret=PASSWORD,
        ),
    )
)
emails.register(
    emails.Kind(
        PASSWORD_RESET,
        "パスワード再設定のご案内（再設定用リンク）",
        slot=RESET_URL_SLOT,
        editable=emails.Editable(
            placeholders={
                **COMMON,
                RESET_URL: "再設定用のリンク（送信時に記入）",
                RESET_VALID: "再設定用リンクの有効期間（例：24時間）",
            },
            required=(RESET_URL,),
            subject=SUBJECT,
            secret=RESET_URL,
        ),
    )
)
emails.register(emails.Kind(STAFF_ENROLMENT_INVITATION, "職員：認証アプリ登録の招待"))


def password(message) -> str:
    """The password of a credential message, derived again from its nonce."""
    if not message.secret_nonce:
        raise emails.SecretUnavailable("パスワードの復元値がありません。パスワードを再発行してください。")
    try:
        return credentials.derive_password(message.secret_nonce)
    except credentials.CredentialKeyChanged:
        raise emails.SecretUnavailable(
            "CREDENTIALS_KEY が変更されたため、パスワードを復元できません。パスワードを再発行してください。"
        ) from None


def reset_url(message) -> str:
    """A fresh reset link for the local government's account (the token is never stored)."""
    user = getattr(message.local_government, "account", None) if message.local_government else None
    if user is None or not user.is_active:
        raise emails.SecretUnavailable("再設定の対象のアカウントがないか、利用停止中です。")
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return emails.absolute(path)


emails.register_slot_filler(PASSWORD_SLOT, password)
emails.register_slot_filler(RESET_URL_SLOT, reset_url)
