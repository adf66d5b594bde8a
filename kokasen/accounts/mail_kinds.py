"""The e-mails of the accounts app (queued by kokasen.notifications.services for now).

The credential, reissue and reset notices are editable by staff (スニペット → メールの文面) with
the placeholders below; each carries one secret slot, which the sender fills at send time: the
password from the message's nonce, the reset link from the local government's account. Nothing
else ever gets a secret (decision 0017).
"""

from kokasen.notifications import emails

CREDENTIALS = "credentials"
PASSWORD_REISSUED = "password_reissued"
PASSWORD_RESET = "password_reset"
STAFF_ENROLMENT_INVITATION = "staff_enrolment_invitation"
PASSWORD_SLOT = "password"
RESET_URL_SLOT = "reset-url"

# Filled in when the message is queued.
COMMON = {
    "団体名": "都道府県名を含む団体名（例：北海道札幌市）",
    "ユーザーID": "ログインに使う団体コード（6桁）",
    "ログインURL": "ログイン画面のURL",
    "アカウントURL": "アカウント情報（パスワード変更）画面のURL",
    "再設定申込URL": "パスワードを忘れたときの再設定申込画面のURL",
}
SUBJECT = ("団体名", "ユーザーID")
PASSWORD = "パスワード"
RESET_URL = "再設定URL"
RESET_VALID = "有効期限"

emails.register(emails.Kind(
    CREDENTIALS, "アカウント発行のお知らせ（初期パスワード）", slot=PASSWORD_SLOT,
    editable=emails.Editable(
        placeholders={**COMMON, PASSWORD: "初期パスワード（送信時に記入）"},
        required=("ユーザーID", PASSWORD, "ログインURL"), subject=SUBJECT, secret=PASSWORD,
    ),
))
emails.register(emails.Kind(
    PASSWORD_REISSUED, "パスワード再発行のお知らせ", slot=PASSWORD_SLOT,
    editable=emails.Editable(
        placeholders={**COMMON, PASSWORD: "新しいパスワード（送信時に記入）"},
        required=("ユーザーID", PASSWORD, "ログインURL"), subject=SUBJECT, secret=PASSWORD,
    ),
))
emails.register(emails.Kind(
    PASSWORD_RESET, "パスワード再設定のご案内（再設定用リンク）", slot=RESET_URL_SLOT,
    editable=emails.Editable(
        placeholders={
            **COMMON,
            RESET_URL: "再設定用のリンク（送信時に記入）",
            RESET_VALID: "再設定用リンクの有効期間（例：24時間）",
        },
        required=(RESET_URL,), subject=SUBJECT, secret=RESET_URL,
    ),
))
emails.register(emails.Kind(STAFF_ENROLMENT_INVITATION, "職員：認証アプリ登録の招待"))

