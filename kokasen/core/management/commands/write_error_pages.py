from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kokasen.core import errors

COMMITTED = Path(settings.BASE_DIR) / "deploy" / "nginx" / "errors"


class Command(BaseCommand):
    help = (
        "Write nginx's own error pages (404, 413, 429, 502, 503) from the portal's templates "
        "(templates/errors/), for the error_page lines of deploy/nginx/*.conf. The default "
        "folder is the committed copy, deploy/nginx/errors/; production serves them from "
        "/srv/kokasen/errors/. --check only compares."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, default=COMMITTED, help=f"folder to write to (default: {COMMITTED})")
        parser.add_argument(
            "--check", action="store_true", help="write nothing; fail if the files in --out differ from the templates"
        )

    def handle(self, *args, out: Path, check=False, **options):
        pages = errors.nginx_pages()
        stale = [
            name for name, data in pages.items() if not (out / name).is_file() or (out / name).read_bytes() != data
        ]
        if check:
            if stale:
                raise CommandError(
                    f"{out} のエラーページが古くなっています（{', '.join(stale)}）。"
                    "manage.py write_error_pages で書き直してください。"
                )
            self.stdout.write(f"{out} のエラーページは最新です。")
            return
        out.mkdir(parents=True, exist_ok=True)
        for name in stale:
            (out / name).write_bytes(pages[name])
        self.stdout.write(f"{out} に {len(pages)} 件のエラーページを書き出しました（うち更新 {len(stale)} 件）。")
