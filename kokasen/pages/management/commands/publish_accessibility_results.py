from django.core.management.base import BaseCommand, CommandError

from kokasen.pages import accessibility
from kokasen.pages.models import HomePage


class Command(BaseCommand):
    help = (
        "Write the ウェブアクセシビリティ方針 and ウェブアクセシビリティ試験結果 pages from the data in "
        "kokasen/pages/accessibility/ (sample.toml, checklist.toml, statement.toml) and publish the ones "
        "whose text changed. Idempotent. Edits made to these two pages in the admin are replaced: "
        "change the data instead (decision 0059)."
    )

    def handle(self, *args, **options):
        home = HomePage.objects.first()
        if home is None:
            raise CommandError("トップページがありません。先にトップページを作成してください。何も書き込んでいません。")
        changed = accessibility.publish(home)
        self.stdout.write(
            f"ウェブアクセシビリティの方針と試験結果：{changed} ページを更新しました（対応度：{accessibility.conformance()}）。"
        )
