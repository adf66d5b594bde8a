"""Write every public page's file for nginx (decision 0061) and remove the files of pages that
are no longer public; run by the installer after each deploy (templates or code may have
changed what every page looks like)."""

from django.core.management.base import BaseCommand

from kokasen.pages import published_files


class Command(BaseCommand):
    help = "公開ページのファイル（nginx が未ログインの閲覧者に返すもの）をすべて書き直します。"

    def handle(self, *args, **options):
        base = published_files.root()
        if base is None:
            if options["verbosity"]:
                self.stdout.write("PUBLISHED_PAGES_ROOT が off のため、何も書きません。")
            return
        result = published_files.write_all()
        if options["verbosity"]:
            self.stdout.write(
                f"公開ページのファイル: {result['written']} 件を書き、{result['removed']} 件を削除しました（{base}）。"
            )
