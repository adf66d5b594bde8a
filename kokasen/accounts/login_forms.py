"""Forms of the one login page and of the staff TOTP step."""

import re
import unicodedata

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UsernameField

from kokasen.core.forms import INPUT_CLASS, DescribedFieldsMixin

INVALID_LOGIN = (
    "ユーザーIDまたはパスワードが正しくありません。"
    "入力内容（半角・全角、大文字・小文字）を確認して、もう一度入力してください。"
)


class LoginForm(DescribedFieldsMixin, AuthenticationForm):
    """User ID (6-digit 団体コード or a staff user name) and password.

    The user ID is NFKC-normalised (full-width digits typed by mistake work) and stripped.
    A wrong ID, a wrong password and a disabled account all get the same message."""

    username = UsernameField(
        label="ユーザーID（団体コード6桁、または職員のユーザー名）",
        help_text="地方公共団体の方は、全国地方公共団体コードの6桁（例：011002）を入力してください。",
        max_length=150,
        error_messages={"required": "ユーザーIDを入力してください。"},
        widget=forms.TextInput(
            attrs={"class": INPUT_CLASS, "autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        label="パスワード",
        strip=False,
        error_messages={"required": "パスワードを入力してください。"},
        widget=forms.PasswordInput(attrs={"class": INPUT_CLASS, "autocomplete": "current-password"}),
    )
    error_messages = {"invalid_login": INVALID_LOGIN, "inactive": INVALID_LOGIN}

    def get_invalid_login_error(self):
        return forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")


class TOTPForm(DescribedFieldsMixin, forms.Form):
    otp_token = forms.CharField(
        label="確認コード（6桁）",
        help_text="認証アプリに表示されている半角数字6桁です。",
        max_length=20,
        error_messages={"required": "確認コードを入力してください。"},
        widget=forms.TextInput(
            attrs={
                "class": INPUT_CLASS,
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "maxlength": "7",
                "size": "8",
            }
        ),
    )

    def clean_otp_token(self):
        token = re.sub(r"\s+", "", unicodedata.normalize("NFKC", self.cleaned_data["otp_token"]))
        if not re.fullmatch(r"[0-9]{6}", token):
            raise forms.ValidationError("確認コードは半角数字6桁で入力してください。", code="format")
        return token


class RecoveryCodeForm(DescribedFieldsMixin, forms.Form):
    recovery_code = forms.CharField(
        label="回復コード",
        help_text="認証アプリの登録時に表示された10個のうち、まだ使っていない1つです（例：abcde-fghjk）。大文字・小文字、ハイフンの有無は問いません。",
        max_length=40,
        error_messages={"required": "回復コードを入力してください。"},
        widget=forms.TextInput(
            attrs={
                "class": INPUT_CLASS,
                "autocomplete": "off",
                "autocapitalize": "none",
                "spellcheck": "false",
                "size": "14",
            }
        ),
    )

    def clean_recovery_code(self):
        from .recovery_codes import normalise

        code = normalise(self.cleaned_data["recovery_code"])
        if not re.fullmatch(r"[a-z0-9]{10}", code):
            raise forms.ValidationError("回復コードは英数字10文字（ハイフンを除く）で入力してください。", code="format")
        return code
