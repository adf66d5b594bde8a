from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils import timezone

from .user_rows import UserQuerySet


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):
    """Django's, whose querysets' ``update()`` makes the session rows kept in the cache be read
    again (accounts/user_rows.py: Wagtail's bulk 利用停止 is such an update)."""


class User(AbstractUser):
    """A login: either one shared account per local government or a personal staff account.

    Local-government accounts use the 6-digit 全国地方公共団体コード as username and point
    at their LocalGovernment; staff accounts (管理者, 受託者) have no local government.
    Roles are Django groups (see roles.py).
    """

    local_government = models.OneToOneField(
        "localgov.LocalGovernment",
        verbose_name="地方公共団体",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="account",
    )
    # True while the account still has the password the portal generated and mailed (import,
    # reissue); False once someone of the local government chose their own (account page or
    # reset by e-mail). The members area shows a prompt to change it (decision 0043).
    password_issued = models.BooleanField("発行したパスワードのまま", default=False, editable=False)

    objects = UserManager()

    class Meta:
        verbose_name = "ユーザー"
        verbose_name_plural = "ユーザー"

    def display_name(self) -> str:
        """姓 名 in Japanese order (Django's get_full_name puts the given name first), or the
        username when no name is set."""
        return " ".join(part for part in (self.last_name, self.first_name) if part) or self.get_username()


class RegisteredAddress(models.Model):
    """One of the e-mail addresses a local government registered (from the address list).

    Credentials, reissued passwords and reset links go to these addresses only, all in the
    To of one message per local government (REQUIREMENTS S1). ``position`` keeps the order
    of the list. Written by ``services.address_list_import`` only.
    """

    user = models.ForeignKey(
        User, verbose_name="アカウント", on_delete=models.CASCADE, related_name="registered_addresses"
    )
    address = models.EmailField("メールアドレス", max_length=254)
    position = models.PositiveSmallIntegerField("順序", default=0)

    class Meta:
        ordering = ["user", "position", "pk"]
        verbose_name = "登録メールアドレス"
        verbose_name_plural = "登録メールアドレス"
        constraints = [
            models.UniqueConstraint(fields=["user", "address"], name="registered_address_once_per_account"),
        ]

    def __str__(self):
        return self.address


class StaffEnrolmentInvitation(models.Model):
    """A one-time invitation for a staff user to enrol a first TOTP device
    (docs/decisions/0020-staff-enrolment-invitations.md).

    Issued by a 管理者 in 「職員の二要素認証」 or by the server's operator with
    ``manage.py invite_staff_enrolment``; only the SHA-256 of the token is stored. It is
    usable while neither used nor revoked and not expired, and only together with the
    user's own password in the same browser session (kokasen/accounts/enrolment.py).
    At most one invitation per user is open: issuing a new one revokes the earlier ones,
    and enrolling a device (or resetting the devices) revokes the rest.
    """

    class Delivery(models.TextChoices):
        EMAIL = "email", "メール"
        PRINTED = "printed", "コマンドラインに表示"

    user = models.ForeignKey(User, verbose_name="職員", on_delete=models.CASCADE, related_name="enrolment_invitations")
    token_hash = models.CharField("トークンのハッシュ", max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("発行日時", default=timezone.now)
    expires_at = models.DateTimeField("有効期限")
    issued_by = models.ForeignKey(
        User, verbose_name="発行者", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept as text too: the issuer's username, or the command line and the OS user.
    issued_by_label = models.CharField("発行者（記録）", max_length=200, blank=True)
    delivery = models.CharField("届け方", max_length=10, choices=Delivery.choices)
    used_at = models.DateTimeField("使用日時", null=True, blank=True)
    revoked_at = models.DateTimeField("取消日時", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "認証アプリ登録の招待"
        verbose_name_plural = "認証アプリ登録の招待"
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(used_at__isnull=True, revoked_at__isnull=True),
                name="one_open_enrolment_invitation_per_user",
            ),
        ]

    def __str__(self):
        return f"{self.user.get_username()}（{self.status_label}）"

    def is_usable(self, now=None) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > (now or timezone.now())

    @property
    def status(self) -> str:
        """used, revoked, expired or open."""
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"

    @property
    def status_label(self) -> str:
        return {"used": "使用済み", "revoked": "取消", "expired": "期限切れ", "open": "有効"}[self.status]
