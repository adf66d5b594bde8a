from django.core.management.base import BaseCommand

from kokasen.meetings.demo import load_meetings_demo
from kokasen.pages.demo.loader import DemoLoader, ensure_demo_admin, ensure_demo_member


class Command(BaseCommand):
    help = (
        "Fill the portal with the sample (サンプル) content: the 11 menus, news, generated PDF "
        "documents and SVG images, the members area, an admin user and one local government's "
        "account (大阪府豊中市) for the demo, and two sample exchange meetings (情報交換会). Idempotent: pages and files "
        "that already exist are left untouched. Never run it on the production site."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-admin", action="store_true", help="do not create the demo admin and local-government accounts"
        )

    def handle(self, *args, no_admin=False, **options):
        DemoLoader(log=self.stdout.write).run()
        if not no_admin:
            ensure_demo_admin(log=self.stdout.write)
            ensure_demo_member(log=self.stdout.write)
            load_meetings_demo(log=self.stdout.write)  # sample 情報交換会, written as the demo admin
