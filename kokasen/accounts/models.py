from django.contrib.auth.models import AbstractUser
from django.db import models


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

    class Meta:
        verbose_name = "ユーザー"
        verbose_name_plural = "ユーザー"


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
