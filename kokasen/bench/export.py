"""Export benchmark: `make bench` (or python -m kokasen.bench.export).

Builds a throw-away SQLite site with the demo content plus 1,000 generated articles and
200 news items, exports it, and prints: the full export in 1 and 2 processes (best of 3 after a
warm-up) beside Hugo (Debian's `hugo`) building the same corpus (same pages, their bodies, a
header menu of the same links, list pages) with relative URLs, and the ratio; the peak RSS;
output size and the median page weight (HTML + the CSS and JS it loads, each gzipped); and one
page republished: the publish task run in-process, and publish → file updated through a real
db_worker process (decision 0062). Nothing here is asserted: the figures are for people to read.

The measuring functions are importable (``measure_export``, ``measure_hugo``,
``measure_republish``; each returns a dict) for kokasen/bench/performance.py.
"""

import argparse
import gzip
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
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


def peak_rss_mib() -> dict:
    """Peak resident memory so far of this process and of its largest finished child (the forked
    renderers, the worker), in MiB (ru_maxrss is KiB on Linux)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self_mib": round(own, 1), "children_mib": round(children, 1)}


def _best(run, repeat: int) -> tuple[float, object]:
    run()  # warm-up: templates compiled, caches filled, files in the page cache
    best, value = None, None
    for _ in range(repeat):
        started = time.monotonic()
        value = run()
        elapsed = time.monotonic() - started
        best = elapsed if best is None else min(best, elapsed)
    return best, value


def measure_export(workdir: Path, jobs: tuple[int, ...] = (1, 2), repeat: int = 3) -> dict:
    """The full export (no --incremental) of the site in the current database into a folder,
    best of ``repeat`` after a warm-up, per number of processes; and the ZIP of it."""
    from kokasen.static_export import archive, builder

    figures = {}
    result = None
    for n in jobs:
        out = Path(workdir) / f"out-{n}"
        cpu = time.process_time()
        seconds, result = _best(lambda n=n, out=out: builder.export_site(out_dir=out, jobs=n), repeat)
        figures[f"export_{n}_s"] = round(seconds, 3)
        figures[f"export_{n}_cpu_s_per_run"] = round((time.process_time() - cpu) / (repeat + 1), 3)
    started = time.monotonic()
    zip_bytes = archive.build_zip(result.files, mtimes=result.mtimes)
    figures["zip_s"] = round(time.monotonic() - started, 3)
    figures.update(
        pages=result.routes,
        files=len(result.files),
        bytes=sum(len(d) for d in result.files.values()),
        zip_bytes=len(zip_bytes),
        result=result,
        peak=peak_rss_mib(),
    )
    return figures


def hugo_site(folder: Path) -> int:
    """The bench's public pages as a Hugo site: each page's title and rendered body, in the same
    sections; a header with the same menu links as ours (rewritten to relative URLs by Hugo's
    relativeURLs, as our exporter does), a footer, and list pages for the home and each section."""
    from kokasen.pages.context_processors import Portal
    from kokasen.pages.models import HomePage
    from kokasen.static_export.builder import SiteExporter

    exporter = SiteExporter()
    routes = [r for r in exporter.routes() if r.page_id is not None and not r.components]
    pages = {r.page_id: r.page for r in exporter._with_full_pages(routes, routes)}
    home = HomePage.objects.get()
    from django.test import RequestFactory

    from kokasen.pages import rendering

    request = RequestFactory().get("/", HTTP_HOST=exporter.host)
    with rendering.rendering(rendering.RenderMode(static_export=True)):
        menu = Portal(request).menu
    links = []
    for item in menu:
        links.append(f'<li><a href="{item.url}">{item.title}</a><ul>')
        links += [f'<li><a href="{child.url}">{child.title}</a></li>' for child in item.children]
        links.append("</ul></li>")
    header = '<header><a href="/">こども家庭センターポータル</a><nav><ul>' + "".join(links) + "</ul></nav></header>"
    while len(header) < 20 * 1024:  # our header is about 20 KiB (menus and drop-downs): the same weight
        header += "<nav hidden><ul>" + "".join(links) + "</ul></nav>"
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "layouts" / "_default").mkdir(parents=True)
    (folder / "layouts" / "partials").mkdir(parents=True)
    (folder / "config.toml").write_text(
        'baseURL = "/"\nrelativeURLs = true\nuglyURLs = false\ndisableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]\n'
        "[markup.goldmark.renderer]\nunsafe = true\n",
        encoding="utf-8",
    )
    (folder / "layouts" / "partials" / "header.html").write_text(header, encoding="utf-8")
    (folder / "layouts" / "partials" / "footer.html").write_text(
        '<footer><a href="/">トップ</a> <a href="/sitemap/">サイトマップ</a></footer>', encoding="utf-8"
    )
    base = (
        '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>{{ .Title }}｜こども家庭センターポータル</title>'
        '<link rel="stylesheet" href="/css/portal.css"></head><body>{{ partial "header.html" . }}<main>{{ block "main" . }}{{ end }}</main>'
        '{{ partial "footer.html" . }}</body></html>'
    )
    (folder / "layouts" / "_default" / "baseof.html").write_text(base, encoding="utf-8")
    (folder / "layouts" / "_default" / "single.html").write_text(
        '{{ define "main" }}<nav><ol><li><a href="/">ホーム</a></li><li><a href="{{ .Parent.RelPermalink }}">{{ .Parent.Title }}</a></li></ol></nav>'
        "<h1>{{ .Title }}</h1>{{ .Content }}{{ end }}",
        encoding="utf-8",
    )
    (folder / "layouts" / "_default" / "list.html").write_text(
        '{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}<ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>'
        "<p>{{ .Summary }}</p></li>{{ end }}</ul>{{ end }}",
        encoding="utf-8",
    )
    content = folder / "content"
    root_path = exporter.site.root_page.url_path
    count = 0
    for route in routes:
        page = pages[route.page_id]
        relative = page.url_path[len(root_path) :].strip("/")
        body = str(page.body) if getattr(page, "body", None) else ""
        title = page.title.replace('"', "'")
        front = f'---\ntitle: "{title}"\nsummary: "{getattr(page, "summary", "") or ""}"\n---\n'
        if page.pk == home.pk:
            target = content / "_index.md"
        elif page.numchild:
            target = content / relative / "_index.md"  # a section (list page)
        else:
            target = content / f"{relative}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(front + body + "\n", encoding="utf-8")
        count += 1
    return count


def measure_hugo(workdir: Path, repeat: int = 3) -> dict:
    """Hugo on the same corpus (hugo_site), best of ``repeat`` after a warm-up; {} without hugo."""
    hugo = shutil.which("hugo")
    if hugo is None:
        return {}
    site = Path(workdir) / "hugo-site"
    pages = hugo_site(site)
    out = Path(workdir) / "hugo-out"

    def run():
        subprocess.run(
            [hugo, "--quiet", "--source", str(site), "--destination", str(out), "--cleanDestinationDir"],
            check=True,
            capture_output=True,
            timeout=600,
        )

    seconds, _ = _best(run, repeat)
    version = subprocess.run([hugo, "version"], capture_output=True, text=True).stdout.split()[1]
    html = sum(1 for _ in out.rglob("*.html"))
    return {"hugo_s": round(seconds, 3), "pages": pages, "html_files": html, "version": version}


def worker_command() -> list[str]:
    """The management command and options of deploy/systemd/kokasen-static-export.service."""
    unit = Path(__file__).resolve().parents[2] / "deploy/systemd/kokasen-static-export.service"
    match = re.search(r"^ExecStart=\S+/kokasen-manage (.+)$", unit.read_text(encoding="utf-8"), re.MULTILINE)
    return match.group(1).split()


def measure_republish(
    workdir: Path, slug: str = "bench-0300", repeat: int = 5, worker: list[str] | None = None, timeline=None
) -> dict:
    """One changed page republished into the published folder (decision 0062): the update
    task's body run in this process, then publish → file updated through a real worker process
    started as kokasen-static-export.service starts it (``worker``: another command line, for
    comparisons); the median of ``repeat`` publishes after an uncounted first one, each at a
    random moment of the worker's polling interval. ``timeline``: called with a line per task the
    worker ran for each publish (queued, started, finished, relative to the publish).
    STATIC_EXPORT_PUBLISH_DIR must be set (main() sets it)."""
    from django.conf import settings
    from django_tasks_db.models import DBTaskResult

    from kokasen.pages.models import ArticlePage
    from kokasen.static_export import publishing
    from kokasen.static_export.tasks import zip_published_export

    command = worker or worker_command()
    interval = float(command[command.index("--interval") + 1])
    folder = Path(settings.STATIC_EXPORT_PUBLISH_DIR)
    publishing.update()  # the published folder as it stands (full the first time)
    DBTaskResult.objects.all().delete()
    page = ArticlePage.objects.get(slug=slug)
    target = folder / page.url_path.strip("/").split("/", 1)[1] / "index.html"
    figures = {"interval_s": interval, "worker": " ".join(command)}

    # 1. The task body, in-process (the worker's share, without polling).
    page.body = article_body(-2)
    page.save_revision().publish()
    DBTaskResult.objects.all().delete()
    started = time.monotonic()
    done = publishing.update()
    figures["task_in_process_s"] = round(time.monotonic() - started, 3)
    figures["task_rendered"] = done["rendered"]

    # 2. publish → file updated, through the long-lived worker.
    DBTaskResult.objects.all().delete()
    worker = subprocess.Popen(
        [sys.executable, "manage.py", *command],
        cwd=Path(settings.BASE_DIR),
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    calls = []
    try:

        def publish_and_wait(text: str) -> float | None:
            from django.utils import timezone

            page.body = [("paragraph", f"<p>{text}</p>")]
            page.save_revision()
            # The worker idle and polling: every earlier task done (the ZIP's, an hour ahead here, waits).
            while DBTaskResult.objects.ready().exists() or DBTaskResult.objects.running().exists():
                time.sleep(0.05)
            time.sleep(interval + random.uniform(0, interval))  # at a random moment of its interval
            moment = timezone.now()
            started = time.monotonic()
            page.get_latest_revision().publish()  # the signal queues the task (autocommit: at once)
            calls.append(time.monotonic() - started)
            while text not in target.read_text(encoding="utf-8"):
                if time.monotonic() - started > 180:
                    return None
                time.sleep(0.01)
            took = time.monotonic() - started
            if timeline is not None:
                time.sleep(0.2)  # the worker records the end of the task after writing the file
                for row in DBTaskResult.objects.filter(enqueued_at__gte=moment).order_by("enqueued_at"):
                    at = [
                        f"{(value - moment).total_seconds():.3f}" if value else "-"
                        for value in (row.enqueued_at, row.started_at, row.finished_at)
                    ]
                    timeline(
                        f"    {row.task_path.rsplit('.', 1)[-1]}: queued {at[0]}, started {at[1]}, finished {at[2]}"
                    )
                timeline(f"    file updated {took:.3f} s after the publish began")
            return took

        # The first one also waits for the worker's Django start-up and its first render (a
        # long-lived worker has paid both long before): not counted.
        figures["publish_to_file_first_s"] = publish_and_wait(f"再公開の測定（起動直後） {time.time():.0f}")
        calls.clear()
        times = [publish_and_wait(f"再公開の測定 {n} {time.time():.0f}") for n in range(repeat)]
        measured = [t for t in times if t is not None]
        figures["publish_to_file_s"] = round(min(measured), 3) if measured else None
        figures["publish_to_file_median_s"] = round(statistics.median(measured), 3) if measured else None
        figures["publish_to_file_all_s"] = [round(t, 3) if t is not None else None for t in times]
        figures["publish_call_median_s"] = round(statistics.median(calls), 3) if calls else None
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    zip_task = DBTaskResult.objects.filter(task_path=zip_published_export.module_path).exists()
    started = time.monotonic()
    publishing.write_zip()
    figures["zip_task_s"] = round(time.monotonic() - started, 3)
    figures["zip_task_queued"] = zip_task
    figures["peak"] = peak_rss_mib()
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=ARTICLES)
    parser.add_argument("--news", type=int, default=NEWS)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="keep the generated site here and reuse it next time")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kokasen-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        reuse = (workdir / "bench.sqlite3").exists()
        started = time.monotonic()
        setup_django(workdir, STATIC_EXPORT_PUBLISH_DIR=str(workdir / "published"))
        if not reuse:
            generate(args.articles, args.news)
        print(f"site {'reused' if reuse else 'generated'} in {time.monotonic() - started:.1f} s")
        print(f"load (uptime): {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")

        phrases = time_phrases()
        export = measure_export(workdir, tuple(sorted({1, args.jobs})), args.repeat)
        result = export.pop("result")
        for n in sorted({1, args.jobs}):
            print(
                f"full export to a folder, {n} process(es): {export['pages']} pages in {export[f'export_{n}_s']:.2f} s "
                f"(best of {args.repeat}) = {export['pages'] / export[f'export_{n}_s']:.0f} pages/s; "
                f"CPU of this process {export[f'export_{n}_cpu_s_per_run']:.2f} s per run"
            )
        from kokasen.pages import typography

        print(
            f"  phrase breaks (BudouX): {phrases[1]} titles, {typography._from_text.cache_info().misses} distinct, "
            f"{phrases[0]:.2f} s over all runs"
        )
        print(f"  ZIP of it: {export['zip_s']:.2f} s, {export['zip_bytes'] / 1024 / 1024:.1f} MiB")
        hugo = measure_hugo(workdir, args.repeat)
        if hugo:
            for n in sorted({1, args.jobs}):
                print(
                    f"Hugo {hugo['version']} on the same corpus ({hugo['pages']} pages, {hugo['html_files']} HTML files): "
                    f"{hugo['hugo_s']:.2f} s (best of {args.repeat}); ours with {n} process(es) / Hugo = "
                    f"{export[f'export_{n}_s'] / hugo['hugo_s']:.1f}x"
                )
        else:
            print("Hugo: not installed (apt install hugo; make bench installs BENCH_APT_PACKAGES)")
        print(
            f"peak RSS after the exports: this process {export['peak']['self_mib']} MiB, largest child {export['peak']['children_mib']} MiB"
        )
        admin_build(workdir, args.jobs)
        size = sum(len(d) for d in result.files.values())
        weights = page_weights(result.files)
        print(f"output: {len(result.files)} files, {size / 1024 / 1024:.1f} MiB")
        print(
            f"page weight (HTML+CSS+JS, gzip): median {statistics.median(weights) / 1024:.1f} KiB, "
            f"max {max(weights) / 1024:.1f} KiB over {len(weights)} pages"
        )
        republish = measure_republish(workdir)
        print(
            f"one page republished: the update task in-process {republish['task_in_process_s']:.2f} s "
            f"({republish['task_rendered']} pages rendered); publish → file updated through db_worker "
            f"({republish['worker']}) median {republish['publish_to_file_median_s']} s "
            f"(all: {republish['publish_to_file_all_s']}); the ZIP task afterwards {republish['zip_task_s']:.2f} s "
            f"(queued for later: {republish['zip_task_queued']})"
        )
        print(
            f"peak RSS at the end: this process {republish['peak']['self_mib']} MiB, largest child {republish['peak']['children_mib']} MiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
