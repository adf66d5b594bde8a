from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kokasen.pages.models import PortalSettings
from kokasen.static_export import archive, builder


class Command(BaseCommand):
    help = (
        "Export the public portal as static HTML/CSS/JS with document-relative links "
        "(REQUIREMENTS D1). Only live, public pages and the files they use are written; "
        "drafts, private pages and private documents never are. --out writes a folder "
        "(replacing an earlier export there), --zip a deterministic ZIP."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, help="folder to write the site to")
        parser.add_argument("--zip", type=Path, help="ZIP file to write")
        parser.add_argument(
            "--structure", choices=PortalSettings.Structure.values, help="menu structure (default: the portal setting)"
        )
        parser.add_argument(
            "--design", choices=PortalSettings.Design.values, help="design (default: the portal setting)"
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=settings.STATIC_EXPORT_JOBS,
            help="render in this many processes (default: STATIC_EXPORT_JOBS, as the admin's builds)",
        )
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="re-render only the pages whose content, menus or links changed since the export in --out",
        )

    def handle(self, *args, out=None, zip=None, structure=None, design=None, jobs=1, incremental=False, **options):
        if out is None and zip is None:
            raise CommandError("--out と --zip の少なくとも一方を指定してください。")
        if incremental and out is None:
            raise CommandError("--incremental には --out（前回の書き出し先）が必要です。")
        try:
            result = builder.export_site(
                out_dir=out, structure=structure, design=design, jobs=jobs, incremental=incremental
            )
        except builder.ExportError as exc:
            raise CommandError(str(exc)) from exc
        if zip is not None:
            zip.parent.mkdir(parents=True, exist_ok=True)
            zip.write_bytes(archive.build_zip(result.files, mtimes=result.mtimes))
        for output, urls in sorted(result.unresolved.items()):
            self.stderr.write(f"警告: {output} の書き出し対象外へのリンクを外しました: {', '.join(sorted(urls))}")
        size = sum(len(data) for data in result.files.values())
        self.stdout.write(
            f"{result.routes} ページ（うち今回描画 {result.pages}）、{len(result.files)} ファイル"
            f"（{size / 1024:.0f} KiB）を{result.seconds:.1f} 秒で書き出しました。"
        )
