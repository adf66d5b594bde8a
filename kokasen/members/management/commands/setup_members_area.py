from django.core.management.base import BaseCommand

from kokasen.members.services import MEMBERS_COLLECTION_NAME, members_area_secure, protected_images_secure


class Command(BaseCommand):
    help = (
        "会員エリアの閲覧制限（自治体・管理者・受託者のグループ）と「会員限定資料」コレクションを確認し、"
        "なければ設定します。閲覧制限のあるコレクションの画像は、公開されない保存場所へ移します。"
    )

    def handle(self, *args, **options):
        repaired = members_area_secure()
        if repaired:
            self.stdout.write(f"会員エリアの閲覧制限を {repaired} 件設定しました。")
        else:
            self.stdout.write(f"会員エリアと「{MEMBERS_COLLECTION_NAME}」の閲覧制限は設定済みです。")
        moved = protected_images_secure()
        if moved:
            self.stdout.write(f"画像 {moved} 件のファイルを、コレクションの閲覧制限に合わせて移しました。")
        else:
            self.stdout.write("閲覧制限のあるコレクションの画像は、すべて公開されない保存場所にあります。")
