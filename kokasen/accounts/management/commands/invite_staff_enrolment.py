import getpass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kokasen.accounts import services
from kokasen.core import refusals
from kokasen.core.refusals import Refused


class Command(BaseCommand):
    help = (
        "Issue a one-time invitation for a staff user to enrol an authenticator app (TOTP); "
        "earlier invitations stop working. The link is e-mailed to the user's own address "
        "through the outbox (send it with send_outbox), or shown here with --print (the first "
        "管理者 of a fresh installation). --reset first deletes the user's TOTP devices (lost phone). "
        "See docs/decisions/0020-staff-enrolment-invitations.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--print",
            action="store_true",
            dest="print_link",
            help="show the link here instead of e-mailing it (give it to the user in person)",
        )
        parser.add_argument("--reset", action="store_true", help="delete the user's TOTP devices first")

    def handle(self, *args, username, print_link=False, reset=False, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"ユーザー「{username}」は見つかりません。")
        label = f"コマンドライン（{_os_user()}）"
        try:
            refusal = services.enrolment_refusal(
                user=user, acting_user=None, action="reset" if reset else "invite", print_link=print_link
            )
            if refusal:  # asked first, to add the way out that only the command has
                if not print_link and not user.email:
                    refusal += "（--print を付けて実行すると、招待のURLをここに表示します。）"
                raise Refused(refusal)
            if reset:
                issued = services.totp_device_reset(user=user, print_link=print_link, issued_by_label=label)
            else:
                issued = services.enrolment_invitation_issue(user=user, print_link=print_link, issued_by_label=label)
        except Refused as refused:
            raise refusals.command_error(self, refused) from None
        if reset:
            self.stdout.write(f"「{username}」の認証アプリの登録を削除しました。")
        if issued is None:
            raise CommandError(
                f"「{username}」にはメールアドレスが登録されていないため、招待は送っていません。"
                "--print を付けて実行すると、招待のURLをここに表示します。"
            )
        expires = f"{timezone.localtime(issued.invitation.expires_at):%Y-%m-%d %H:%M}"
        if print_link:
            self.stdout.write(
                f"「{username}」の認証アプリ登録の招待を発行しました（有効期限：{expires}、一度だけ使えます）。\n"
                "ご本人に直接渡してください。このURLをブラウザで開いてから、ご本人のユーザーIDとパスワードで"
                "ログインすると、認証アプリの登録画面に進みます。\n"
                f"{issued.link}"
            )
        else:
            self.stdout.write(
                f"「{username}」の認証アプリ登録の招待を、{user.email} あてに送信待ちにしました"
                f"（有効期限：{expires}。manage.py send_outbox で送信します）。"
            )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "不明"
