from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kokasen.demo.analytics import load_analytics_demo
from kokasen.demo.board import load_board_demo
from kokasen.demo.loader import DemoLoader, ensure_demo_admin, ensure_demo_member
from kokasen.demo.meetings import load_meeting_states_demo, load_meetings_demo


def refusal() -> str | None:
    """Why the sample content must not be loaded with these settings, or None. It creates an
    admin account with a known password file and fake local governments' data: development and
    tests only (decision 0021)."""
    if getattr(settings, "KOKASEN_PRODUCTION", False):
        return (
            "本番の設定（kokasen.settings.production）ではサンプルのコンテンツを読み込みません。"
            "load_demo は開発環境専用です。何も書き込んでいません。"
        )
    if not settings.DEBUG and not getattr(settings, "DEMO_CONTENT_WITHOUT_DEBUG", False):
        return (
            "DEBUG が無効な設定ではサンプルのコンテンツを読み込みません（本番のデータベースの可能性があります）。"
            "開発環境では make run（開発用の設定 kokasen.settings.dev）で読み込んでください。何も書き込んでいません。"
        )
    return None


class Command(BaseCommand):
    help = (
        "Fill the portal with the sample (サンプル) content: the 11 menus, news, generated PDF "
        "documents and SVG images, the members area, an admin user and one local government's "
        "account (大阪府豊中市) for the demo, and two sample exchange meetings (情報交換会). Idempotent: pages and files "
        "that already exist are left untouched. Development only: refused with the production settings "
        "and whenever DEBUG is off (except under the test settings)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-admin", action="store_true", help="do not create the demo admin and local-government accounts"
        )

    def handle(self, *args, no_admin=False, **options):
        if reason := refusal():
            raise CommandError(reason)
        DemoLoader(log=self.stdout.write).run()
        if not no_admin:
            ensure_demo_admin(log=self.stdout.write)
            ensure_demo_member(log=self.stdout.write)
            load_meetings_demo(log=self.stdout.write)  # sample 情報交換会, written as the demo admin
            load_meeting_states_demo(log=self.stdout.write)  # one just created, one held and approved
            load_board_demo(log=self.stdout.write)  # sample 小ネタ topics and posts, 意見箱 opinions
            load_analytics_demo(log=self.stdout.write)  # 120 days of access and participation counts
