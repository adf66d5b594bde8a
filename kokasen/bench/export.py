"""Export benchmark: `make bench` (or python -m kokasen.bench.export).

Builds a throw-away SQLite site with the demo content plus 1,000 generated articles and
200 news items, exports it, and prints pages per second, output size, the median page
weight (HTML + the CSS and JS it loads, each gzipped) and the time to re-export after
one page changes. Nothing here is asserted: the figures are for people to read.
"""

import argparse
import gzip
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from kokasen.bench.scratch import setup_django

ARTICLES = 1000
NEWS = 200


def article_body(n: int):
    paragraph = (
        "<p>こども家庭センターでは、母子保健と児童福祉の両機能が連携し、妊産婦、子育て世帯、こどもへの"
        f"一体的な相談支援を行います。これはベンチマーク用の記事{n}の本文です。研修、サポートプラン、"
        "統括支援員、要保護児童対策地域協議会などの語を含みます。</p>"
    )
    body = [("notice", {"kind": "info", "title": "ベンチマーク用", "text": "自動生成したページです。"})]
    for h in range(4):
        body.append(("heading", {"text": f"見出し{h + 1}", "anchor": f"h{h + 1}"}))
        body.extend([("paragraph", paragraph)] * 2)
    body.append(
        (
            "accordion",
            {
                "title": "よくある質問",
                "items": [{"question": f"質問{q}はどうなりますか？", "answer": paragraph} for q in range(3)],
            },
        )
    )
    return body


def generate(articles: int, news: int):
    import datetime

    from kokasen.demo.loader import DemoLoader
    from kokasen.pages.models import ArticlePage, NewsIndexPage, NewsPage, SectionPage

    DemoLoader(log=lambda *a: None).run()
    sections = list(SectionPage.objects.order_by("path"))
    for n in range(articles):
        section = sections[n % len(sections)]
        section.add_child(
            instance=ArticlePage(
                title=f"ベンチマーク記事{n:04d}", slug=f"bench-{n:04d}", summary=f"記事{n}の概要", body=article_body(n)
            )
        )
    index = NewsIndexPage.objects.get()
    start = datetime.date(2024, 1, 1)
    for n in range(news):
        index.add_child(
            instance=NewsPage(
                title=f"ベンチマークのお知らせ{n:03d}",
                slug=f"bench-news-{n:03d}",
                date=start + datetime.timedelta(days=n),
                summary="自動生成したお知らせです。",
                body=[("paragraph", "<p>お知らせの本文です。</p>")],
            )
        )


ASSET = re.compile(r'(?:href|src)="([^"#?]+\.(?:css|js))"')


def page_weights(files: dict[str, bytes]) -> list[int]:
    import posixpath

    gz = {}

    def gzipped(name):
        if name not in gz:
            gz[name] = len(gzip.compress(files[name], mtime=0))
        return gz[name]

    weights = []
    for name, data in files.items():
        if not name.endswith(".html"):
            continue
        total = gzipped(name)
        for ref in set(ASSET.findall(data.decode("utf-8"))):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), ref))
            if target in files:
                total += gzipped(target)
                # portal.css may @import further stylesheets
                for sub in re.findall(r'@import\s+(?:url\()?"([^"]+)"', files[target].decode("utf-8", "ignore")):
                    subpath = posixpath.normpath(posixpath.join(posixpath.dirname(target), sub))
                    if subpath in files:
                        total += gzipped(subpath)
        weights.append(total)
    return weights


def admin_build(workdir: Path, jobs: int) -> None:
    """A build as the admin's 「静的サイトの書き出し」 runs it (decision 0054): the worker's task body,
    with its progress written to the row and the ZIP stored."""
    from django.conf import settings

    from kokasen.static_export import builds
    from kokasen.static_export.models import ExportBuild

    settings.STATIC_EXPORT_ARCHIVE_DIR = workdir / "zips"
    settings.STATIC_EXPORT_JOBS = jobs
    ExportBuild.objects.filter(active=True).delete()
    build = ExportBuild.objects.create(structure="grouped", design="warm")
    started = time.monotonic()
    status = builds.run_build(build.pk)
    elapsed = time.monotonic() - started
    build.refresh_from_db()
    print(
        f"admin build ({jobs} process(es), progress written, ZIP stored): {status} in {elapsed:.2f} s, "
        f"ZIP {build.size / 1024 / 1024:.1f} MiB"
    )


def time_phrases() -> list:
    """Count and time the |phrases filter (BudouX, decision 0055) from now on, in this
    process: [seconds, calls]. The caches start empty, so the cold cost is included."""
    from kokasen.pages import typography

    spent = [0.0, 0]
    original = typography.phrases
    typography._from_text.cache_clear()
    typography._from_html.cache_clear()

    def phrases(value):
        started = time.perf_counter()
        try:
            return original(value)
        finally:
            spent[0] += time.perf_counter() - started
            spent[1] += 1

    typography.phrases = phrases
    return spent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=ARTICLES)
    parser.add_argument("--news", type=int, default=NEWS)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--workdir", type=Path, help="keep the generated site here and reuse it next time")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kokasen-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        reuse = (workdir / "bench.sqlite3").exists()
        started = time.monotonic()
        setup_django(workdir)
        if not reuse:
            generate(args.articles, args.news)
        print(f"site {'reused' if reuse else 'generated'} in {time.monotonic() - started:.1f} s")

        from kokasen.pages.models import ArticlePage
        from kokasen.static_export import archive, builder

        for jobs in sorted({1, args.jobs}):
            phrases = time_phrases() if jobs == 1 else None  # counted in this process only
            started = time.monotonic()
            result = builder.export_site(out_dir=workdir / f"out-{jobs}", jobs=jobs)  # full: no --incremental
            zip_bytes = archive.build_zip(result.files, mtimes=result.mtimes)
            elapsed = time.monotonic() - started
            print(
                f"full export, {jobs} process(es): {result.pages} pages in {elapsed:.2f} s "
                f"= {result.pages / elapsed:.0f} pages/s (render {result.seconds:.2f} s)"
            )
            if phrases is not None:
                from kokasen.pages import typography

                print(
                    f"  phrase breaks (BudouX): {phrases[1]} titles, {typography._from_text.cache_info().misses} "
                    f"distinct, {phrases[0]:.2f} s = {100 * phrases[0] / elapsed:.1f} % of the export"
                )
        admin_build(workdir, args.jobs)
        size = sum(len(d) for d in result.files.values())
        weights = page_weights(result.files)
        print(
            f"output: {len(result.files)} files, {size / 1024 / 1024:.1f} MiB; ZIP {len(zip_bytes) / 1024 / 1024:.1f} MiB"
        )
        print(
            f"page weight (HTML+CSS+JS, gzip): median {statistics.median(weights) / 1024:.1f} KiB, "
            f"max {max(weights) / 1024:.1f} KiB over {len(weights)} pages"
        )

        middle = args.articles // 2  # the article republished (0500 of the default 1,000)
        page = ArticlePage.objects.get(slug=f"bench-{middle:04d}")
        page.title = f"ベンチマーク記事{middle:04d}（更新 {time.time():.0f}）"
        page.save_revision().publish()
        out = workdir / f"out-{args.jobs}"
        started = time.monotonic()
        result = builder.export_site(out_dir=out, jobs=args.jobs, incremental=True)
        elapsed = time.monotonic() - started
        print(
            f"re-export after changing one page (incremental): {result.pages} of {result.routes} pages rendered, {elapsed:.2f} s"
        )
        started = time.monotonic()
        zip_bytes = archive.build_zip(result.files, mtimes=result.mtimes)
        print(f"  ZIP rebuilt in {time.monotonic() - started:.2f} s")
        page.body = article_body(-1)
        page.save_revision().publish()
        started = time.monotonic()
        result = builder.export_site(out_dir=out, jobs=args.jobs, incremental=True)
        elapsed = time.monotonic() - started
        print(
            f"re-export after editing one page's body (incremental): {result.pages} of {result.routes} pages rendered, {elapsed:.2f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
