"""The monthly 運用・セキュリティ報告 (issue 13 item 7, decision 0039).

:func:`collect` reads one month (Japan time) from what the portal already keeps: the alerts and
how they ended, the outage alerts (for the availability), the login events of the audit trail
(failures, lockouts, refusals and throttling), the backup record (``checks.backup``, as the
readiness check and ops_scan read it), the certificate (``certificates.not_after``) and the
incidents. :func:`report_blocks` lays it out as ``meetings.report_outline`` blocks for the
implementation report's renderers (Word and PDF), like the 事故報告書.

Made on demand (「運用・セキュリティ」 → 月次報告) and announced on the 1st by
``ops_monthly_report`` (one notice per month to the agency's 管理者, the URL written out, no
attachment).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from kokasen.accounts.notices import agency_admins_notify
from kokasen.core.models import AuditEvent
from kokasen.meetings import charts
from kokasen.meetings.report_outline import FigureBlock, Heading, PageBreak, Para, Table
from kokasen.notifications import emails

from . import certificates, checks
from .detection import FAILURES, LOCKOUTS, REFUSED, RULES, SEVERITIES, SEVERITY_LABELS
from .mail_kinds import OPS_MONTHLY_REPORT
from .models import Alert, Incident

TITLE = "運用・セキュリティ報告"
OUTAGE_RULES = ("database_unreachable", "server_errors")
LOGIN_ACTIONS = {
    "login.succeeded": "ログイン成功",
    "login.failed": "ログイン失敗（パスワード）",
    "login.totp_failed": "ログイン失敗（認証コード）",
    "login.locked_out": "ロック中のため拒否",
    "login.throttled": "試行回数の制限で拒否",
    "lockout.started": "アカウントの一時ロック",
    "address.slowed": "アドレスの制限",
}


@dataclass
class MonthData:
    year: int
    month: int
    start: datetime
    end: datetime
    created_on: date
    outage_minutes: float = 0.0
    outages: list[Alert] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    logins: Counter = field(default_factory=Counter)
    weekly_failures: list[tuple[str, int, int]] = field(default_factory=list)  # label, failures, refused
    backup: list[tuple[str, str]] = field(default_factory=list)
    drill: list[tuple[str, str]] = field(default_factory=list)
    virus: list[tuple[str, str]] = field(default_factory=list)
    patches: list[tuple[str, str]] = field(default_factory=list)
    certificate: list[tuple[str, str]] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60

    @property
    def availability(self) -> float:
        return max(0.0, 1 - self.outage_minutes / self.minutes)

    @property
    def availability_text(self) -> str:
        return f"{self.availability * 100:.2f}%"


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return (
        timezone.make_aware(datetime.combine(first, time.min)),
        timezone.make_aware(datetime.combine(following, time.min)),
    )


def previous_month(today: date) -> tuple[int, int]:
    return (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)


def _union_minutes(intervals: list[tuple[datetime, datetime]]) -> float:
    total, current = 0.0, None
    for start, end in sorted(intervals):
        if current and start <= current[1]:
            current = (current[0], max(current[1], end))
            continue
        if current:
            total += (current[1] - current[0]).total_seconds()
        current = (start, end)
    if current:
        total += (current[1] - current[0]).total_seconds()
    return total / 60


def collect(year: int, month: int, *, now: datetime | None = None) -> MonthData:
    now = now or timezone.now()
    start, end = month_bounds(year, month)
    data = MonthData(year, month, start, end, timezone.localdate(now))
    in_month = Q(first_seen__lt=end) & (Q(last_seen__gte=start) | Q(resolved_at__isnull=True))
    data.alerts = list(Alert.objects.filter(in_month).order_by("first_seen", "pk"))
    data.outages = [a for a in data.alerts if a.rule in OUTAGE_RULES and a.severity == "critical"]
    # An outage counts from its first to its last failure, at least one ops_scan interval.
    data.outage_minutes = _union_minutes(
        [
            (max(a.first_seen, start), min(max(a.last_seen, a.first_seen + timedelta(minutes=5)), end))
            for a in data.outages
        ]
    )
    events = AuditEvent.objects.filter(created_at__gte=start, created_at__lt=end, action__in=list(LOGIN_ACTIONS))
    data.logins = Counter(events.values_list("action", flat=True))
    week_start = start
    while week_start < end:
        week_end = min(week_start + timedelta(days=7), end)
        week = events.filter(created_at__gte=week_start, created_at__lt=week_end)
        last_day = timezone.localtime(week_end - timedelta(seconds=1))
        label = f"{timezone.localtime(week_start):%-m/%-d}〜{last_day:%-m/%-d}"
        data.weekly_failures.append(
            (label, week.filter(action__in=FAILURES).count(), week.filter(action__in=(*REFUSED, *LOCKOUTS)).count())
        )
        week_start = week_end
    data.backup = backup_rows(now)
    data.drill = drill_rows(now)
    data.virus = virus_rows(start, end, now)
    data.patches = patch_rows()
    data.certificate = certificate_rows(now)
    data.incidents = list(
        Incident.objects.filter(
            Q(detected_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=start))
        ).order_by("detected_at", "pk")
    )
    return data


def backup_rows(now: datetime) -> list[tuple[str, str]]:
    """The state of the backups as ops_scan's check sees it, and what the backup job recorded."""
    path = settings.OPS_BACKUP_STATUS_FILE
    if not path:
        return [("状態", "このサーバーでは確認していません（OPS_BACKUP_STATUS_FILE が off）")]
    results = checks.backup(path, now)
    finding = results[0].finding if results else None
    rows = [("状態", "正常（上限の時間内に成功しています）" if finding is None else finding.summary)]
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = None
    if isinstance(record, dict):
        for key, value in list(record.items())[:12]:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            rows.append((f"記録：{key}", str(text)[:200]))
    return rows


def drill_rows(now: datetime) -> list[tuple[str, str]]:
    """The last restore drill as ops_scan's backup_drill rule sees it, and what it recorded."""
    path = settings.BACKUP_DRILL_STATUS_FILE
    if not path:
        return [("状態", "このサーバーでは確認していません（BACKUP_DRILL_STATUS_FILE が off）")]
    [result] = checks.backup_drill(path, now)
    rows = [
        (
            "状態",
            "正常（直近の復元訓練で件数とチェックサムが一致しました）"
            if result.finding is None
            else result.finding.summary,
        )
    ]
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return rows
    if not isinstance(record, dict):
        return rows
    labels = (
        ("finished_at", "実施日時"),
        ("snapshot", "復元したスナップショット"),
        ("tables", "テーブル数"),
        ("rows", "行数"),
        ("media_files", "ファイル数"),
        ("difference_count", "不一致"),
        ("seconds", "所要時間（秒）"),
        ("error", "エラー"),
    )
    for key, label in labels:
        if record.get(key) not in (None, ""):
            value = record[key]
            if key == "finished_at":
                try:
                    value = _when(datetime.fromisoformat(value))
                except (TypeError, ValueError):
                    pass
            rows.append((label, f"{value:,}" if isinstance(value, int) else str(value)[:300]))
    return rows


VIRUS_REFUSED = "antivirus.upload_refused"  # kokasen/core/upload_scan.py
VIRUS_FILE_SCANNED = "antivirus.file_scanned"  # manage.py scan_file


def virus_rows(start: datetime, end: datetime, now: datetime) -> list[tuple[str, str]]:
    """The month's refused uploads and infected files from the audit trail, and clamd's
    signatures now (ops_scan's virus_signatures check)."""
    month = AuditEvent.objects.filter(created_at__gte=start, created_at__lt=end)
    refused = month.filter(action=VIRUS_REFUSED)
    infected_uploads = refused.filter(detail__result="infected").count()
    infected_files = month.filter(action=VIRUS_FILE_SCANNED, detail__result="infected").count()
    rows = [
        (
            "受け付けなかったアップロード",
            f"{refused.count():,}件（うちウイルス検出 {infected_uploads:,}件、検査できず {refused.count() - infected_uploads:,}件）",
        ),
        ("ファイル検査（scan_file）でのウイルス検出", f"{infected_files:,}件"),
    ]
    results = checks.virus_signatures(now)
    if not results:
        rows.append(("ウイルス定義ファイル", "このサーバーでは確認していません（CLAMD_ADDRESS が未設定）"))
    elif results[0].finding is None:
        rows.append(("ウイルス定義ファイル", "正常（更新の上限時間内です）"))
    else:
        rows.append(("ウイルス定義ファイル", results[0].finding.summary))
    latest = (
        AuditEvent.objects.filter(action__in=(VIRUS_REFUSED, VIRUS_FILE_SCANNED), created_at__lt=end)
        .exclude(detail__signature_date=None)
        .order_by("-created_at")
        .values_list("detail", flat=True)
        .first()
    )
    if latest and latest.get("signature_date"):
        rows.append(
            ("最後の検査時の定義ファイル", f"{latest.get('signature_version', '')}（{latest['signature_date'][:16]}）")
        )
    return rows


APT_TIMEOUT = 60  # apt-get -s took 20 s on a loaded 2-core machine
APT_STATE_NAME = "apt-simulate.txt"
APT_REFRESH_AFTER = timedelta(hours=24)
APT_MAX_AGE = timedelta(hours=48)


def _apt_file() -> Path:
    return Path(settings.OPS_STATE_DIR) / APT_STATE_NAME


def refresh_apt_simulation(*, force: bool = False) -> bool:
    """Run ``apt-get -s upgrade`` (a simulation: nothing is installed, no root needed) when its
    saved output is older than a day, and save it in OPS_STATE_DIR; True when it ran. Called by
    ops_scan and ops_monthly_report (timers), never by a screen: it takes tens of seconds."""
    if not settings.OPS_APT_CHECK:
        return False
    path = _apt_file()
    try:
        age = timezone.now().timestamp() - path.stat().st_mtime
    except FileNotFoundError:
        age = None
    if not force and age is not None and age < APT_REFRESH_AFTER.total_seconds():
        return False
    output = _run_apt()
    if output is None:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(output)
    os.replace(temporary, path)
    return True


def _apt_simulate() -> str | None:
    """The saved ``apt-get -s upgrade`` output, None when there is none younger than two days."""
    path = _apt_file()
    try:
        if timezone.now().timestamp() - path.stat().st_mtime > APT_MAX_AGE.total_seconds():
            return None
        return path.read_text()
    except (FileNotFoundError, OSError):
        return None


def _run_apt() -> str | None:
    try:
        done = subprocess.run(
            ["apt-get", "-s", "-o", "Debug::NoLocking=1", "upgrade"],
            capture_output=True,
            text=True,
            timeout=APT_TIMEOUT,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def patch_rows() -> list[tuple[str, str]]:
    """Debian's pending updates (security ones apart) at report time, and the last ``make audit``
    result (pip-audit's JSON at OPS_DEPENDENCY_AUDIT_FILE; docs/decisions/0031)."""
    rows = []
    output = _apt_simulate()
    if output is None:
        rows.append(("OS の更新（Debian）", "不明（apt-get -s upgrade を実行できませんでした）"))
    else:
        pending = [line for line in output.splitlines() if line.startswith("Inst ")]
        security = [line for line in pending if "-security" in line]
        rows.append(
            (
                "OS の更新（Debian）",
                f"未適用のセキュリティ更新 {len(security):,}件（更新全体 {len(pending):,}件、報告書の作成時）",
            )
        )
        if security:
            names = "、".join(line.split()[1] for line in security[:20])
            rows.append(("未適用のセキュリティ更新", names + ("ほか" if len(security) > 20 else "")))
    path = settings.OPS_DEPENDENCY_AUDIT_FILE
    if not path:
        rows.append(
            (
                "依存ライブラリの監査（make audit）",
                "このサーバーでは確認していません（OPS_DEPENDENCY_AUDIT_FILE が off）",
            )
        )
        return rows
    try:
        stat = Path(path).stat()
        result = json.loads(Path(path).read_text(encoding="utf-8"))
        dependencies = result["dependencies"]
    except FileNotFoundError:
        rows.append(
            ("依存ライブラリの監査（make audit）", f"実行結果がありません（{path}）。今月は監査を実行できていません")
        )
        return rows
    except (OSError, ValueError, KeyError, TypeError):
        rows.append(("依存ライブラリの監査（make audit）", f"実行結果 {path} を読めません"))
        return rows
    found = [(d.get("name", "?"), v.get("id", "?")) for d in dependencies for v in d.get("vulns") or []]
    when = _when(datetime.fromtimestamp(stat.st_mtime, tz=timezone.get_current_timezone()))
    rows.append(
        (
            "依存ライブラリの監査（make audit）",
            f"{when} 実行：{len(dependencies):,}パッケージ、既知の脆弱性 {len(found):,}件",
        )
    )
    if found:
        rows.append(("見つかった脆弱性", "、".join(f"{name} {vuln}" for name, vuln in found[:20])))
    return rows


def certificate_rows(now: datetime) -> list[tuple[str, str]]:
    path = settings.OPS_TLS_CERTIFICATE
    if not path:
        return [("状態", "このサーバーでは確認していません（OPS_TLS_CERTIFICATE が off）")]
    try:
        expires = certificates.not_after(path)
    except (OSError, certificates.CertificateUnreadable) as error:
        return [("状態", f"証明書を読めません（{error}）")]
    days = (expires - now).total_seconds() / 86400
    return [
        ("有効期限", f"{timezone.localtime(expires):%Y年%m月%d日 %H:%M}"),
        ("残り日数", f"{int(days)}日" if days > 0 else "期限切れ"),
    ]


# --- the report --------------------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def _ending(alert: Alert) -> str:
    if alert.resolved_at is None:
        return "対応中（確認済み）" if alert.acknowledged_at else "対応中（未確認）"
    return "解消（確認済み）" if alert.acknowledged_at else "解消（確認なし）"


def report_blocks(data: MonthData) -> list:
    tables = figures = 0

    def table(caption, header, rows, widths, **extra):
        nonlocal tables
        tables += 1
        return Table(f"表{tables}　{caption}", tuple(header), tuple(tuple(r) for r in rows), tuple(widths), **extra)

    def figure(caption, chart):
        nonlocal figures
        figures += 1
        return FigureBlock(f"図{figures}　{caption}", chart)

    blocks: list = [
        Para(TITLE, "title"),
        Para(f"{data.label}分", "subtitle"),
        Para("こども家庭センターポータル", "subtitle"),
        Para(f"{data.created_on.year}年{data.created_on.month}月{data.created_on.day}日", "date"),
        PageBreak(),
        Heading(1, "1. 概要"),
    ]
    by_severity = Counter(a.severity for a in data.alerts)
    blocks.append(
        table(
            "今月の概要",
            ("項目", "値"),
            [
                ("可用性（推定）", f"{data.availability_text}（停止と推定される時間 {data.outage_minutes:,.0f}分）"),
                ("アラート", "、".join(f"{SEVERITY_LABELS[s]} {by_severity[s]}件" for s in reversed(SEVERITIES))),
                ("ログイン失敗", f"{sum(data.logins[a] for a in FAILURES):,}件"),
                ("拒否・制限したログイン", f"{sum(data.logins[a] for a in (*REFUSED, *LOCKOUTS)):,}件"),
                ("事故", f"{len(data.incidents)}件"),
            ],
            (1, 3),
            align_numbers=False,
        )
    )
    # 2 availability
    blocks += [
        Heading(1, "2. 可用性"),
        Para(
            "可用性は、監視（ops_scan、5分ごと）が記録した重大な停止のアラート（データベースに接続できない、"
            "5xx エラーの急増）の発生から最後の発生までを停止として推定しています（最短5分）。外部からの死活監視の"
            "記録は含みません。"
        ),
    ]
    if data.outages:
        blocks.append(
            table(
                "停止と推定した時間",
                ("番号", "検知", "発生", "最後の発生"),
                [
                    (f"#{a.pk}", RULES.get(a.rule, a.rule), _when(a.first_seen), _when(a.last_seen))
                    for a in data.outages
                ],
                (0.8, 2.4, 2, 2),
                align_numbers=False,
            )
        )
    else:
        blocks.append(Para("今月、停止と推定されるアラートはありませんでした。"))
    # 3 alerts
    blocks.append(Heading(1, "3. アラートと対応の結果"))
    if data.alerts:
        per_rule = Counter(a.rule for a in data.alerts)
        endings = Counter(_ending(a) for a in data.alerts)
        labels = tuple(RULES.get(rule, rule) for rule, _ in per_rule.most_common())
        blocks.append(
            figure(
                "検知ルール別のアラート件数",
                charts.BarChart(
                    labels, (charts.Series("アラート", tuple(n for _, n in per_rule.most_common())),), "件"
                ),
            )
        )
        blocks.append(
            table(
                "対応の結果",
                ("結果", "件数"),
                [(label, f"{n:,}") for label, n in sorted(endings.items())],
                (3, 1),
            )
        )
        blocks.append(
            table(
                "アラートの一覧",
                ("番号", "重大度", "検知", "概要", "発生", "結果"),
                [
                    (
                        f"#{a.pk}",
                        SEVERITY_LABELS.get(a.severity, a.severity),
                        RULES.get(a.rule, a.rule),
                        a.summary,
                        f"{_when(a.first_seen)}\n〜 {_when(a.last_seen)}",
                        _ending(a) + (f"\n{a.resolution}" if a.resolution else ""),
                    )
                    for a in data.alerts[:200]
                ],
                (0.8, 0.8, 1.7, 3.5, 2.3, 1.9),
                align_numbers=False,
            )
        )
    else:
        blocks.append(Para("今月のアラートはありませんでした。"))
    # 4 logins, refused and throttled
    blocks += [
        Heading(1, "4. ログイン失敗・ロック・拒否"),
        table(
            "ログインに関する記録（監査ログ）",
            ("記録", "件数"),
            [(label, f"{data.logins[action]:,}") for action, label in LOGIN_ACTIONS.items()],
            (3, 1),
        ),
        figure(
            "週ごとのログイン失敗と拒否・制限",
            charts.BarChart(
                tuple(label for label, _, _ in data.weekly_failures),
                (
                    charts.Series("ログイン失敗", tuple(f for _, f, _ in data.weekly_failures)),
                    charts.Series("拒否・制限", tuple(r for _, _, r in data.weekly_failures)),
                ),
                "件",
            ),
        ),
        Para(
            "nginx が制限を超えて拒否した要求は、大量アクセスのアラート（3 章）として数えています。",
            "note",
        ),
    ]
    # 5 backups, 6 certificate
    blocks += [
        Heading(1, "5. バックアップ"),
        table("バックアップの状態（報告書の作成時）", ("項目", "内容"), data.backup, (1, 3), align_numbers=False),
        table("復元訓練の結果（報告書の作成時）", ("項目", "内容"), data.drill, (1, 3), align_numbers=False),
        Heading(1, "6. TLS 証明書"),
        table("証明書の有効期限（報告書の作成時）", ("項目", "内容"), data.certificate, (1, 3), align_numbers=False),
        Heading(1, "7. ウイルス検査"),
        table("ウイルス検査の結果（今月、監査ログ）", ("項目", "内容"), data.virus, (1, 3), align_numbers=False),
        Heading(1, "8. 修正プログラムと依存ライブラリの監査"),
        table("更新と監査の状況（報告書の作成時）", ("項目", "内容"), data.patches, (1, 3), align_numbers=False),
        Heading(1, "9. 事故"),
    ]
    if data.incidents:
        blocks.append(
            table(
                "今月に発生した、または対応中だった事故",
                ("番号", "件名", "種類", "検知", "第一報", "状態"),
                [
                    (
                        f"#{i.pk}",
                        i.title,
                        i.get_kind_display(),
                        _when(i.detected_at),
                        _when(i.oral_reported_at),
                        i.status_label,
                    )
                    for i in data.incidents
                ],
                (0.7, 3, 1.4, 1.8, 1.8, 1.6),
                align_numbers=False,
            )
        )
    else:
        blocks.append(Para("今月の事故はありませんでした。"))
    return blocks


def render_word(data: MonthData) -> bytes:
    from kokasen.meetings import report_docx  # python-docx on first use (decision 0063)

    return report_docx.render_blocks(
        report_blocks(data), title=f"{TITLE}（{data.label}）", subject=TITLE, created_on=data.created_on
    )


def render_pdf(data: MonthData) -> bytes:
    from kokasen.meetings import report_pdf  # ReportLab on first use (decision 0063)

    return report_pdf.render_blocks(report_blocks(data), title=f"{TITLE}（{data.label}）", subject=TITLE)


def filename(data: MonthData, extension: str) -> str:
    return f"運用・セキュリティ報告_{data.year}{data.month:02d}.{extension}"


def report_path(year: int, month: int) -> str:
    return f"/admin/ops/reports/{year}/{month}/"


def notify(year: int, month: int) -> int:
    """Queue the month's notice to every active 管理者 with an address (Bcc), once per month:
    a second run returns the same message. Returns the number of recipients (0: nobody)."""
    base = emails.absolute(report_path(year, month))
    return agency_admins_notify(
        kind=OPS_MONTHLY_REPORT,
        context={
            "label": f"{year}年{month}月",
            "page_url": base,
            "docx_url": base + "report.docx",
            "pdf_url": base + "report.pdf",
        },
        dedupe_key=f"ops:monthly:{year}-{month:02d}",
    )
