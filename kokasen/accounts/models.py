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
