"""Detection and alerts, every 5 minutes (deploy/systemd/kokasen-ops-scan.timer; docs/operations.md
"Detection and alerts", decision 0030).

    kokasen-manage ops_scan

Reads the new access-log lines and audit events, runs every rule and check, keeps one alert per
incident and queues the mails. When the database does not answer, mails OPS_ALERT_EMAILS
directly (at most every OPS_FALLBACK_REPEAT_MINUTES) and exits with status 1. One run at a time
(the lock OPS_STATE_DIR/ops_scan.lock, var/ by default).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from kokasen.core import run_lock
from kokasen.ops import fallback, monthly, scan
from kokasen.ops.detection import SEVERITY_LABELS


class Command(BaseCommand):
    help = "アクセスログと監査ログを読み、検知ルールと確認を実行して、アラートとメールを作ります（5分ごとにタイマーで実行）。"
    requires_system_checks = []  # also when the database is down

    def handle(self, *args, verbosity=1, **options):
        try:
            with run_lock.one_run("ops_scan"):
                report = self.run_once()
        except run_lock.Busy:
            raise CommandError("別の ops_scan が実行中です。") from None
        if verbosity >= 1:
            outcome = report.outcome
            self.stdout.write(
                f"{report.lines:,} 行（読めない行 {report.bad_lines:,}）、監査ログ {report.audit_events:,} 件を確認。"
                f"検知 {len(report.findings)} 件、新しいアラート {len(outcome.opened)} 件、解消 {len(outcome.resolved)} 件、"
                f"メール {outcome.mails} 通。"
            )
            for alert in outcome.opened:
                self.stdout.write(f"  [{SEVERITY_LABELS[alert.severity]}] {alert.summary}")
            for problem in report.problems:
                self.stderr.write(f"  問題: {problem}")

    def run_once(self):
        """One run under the lock: the database first (mail straight over SMTP when it is down)."""
        problem = fallback.database_problem()
        if problem is not None:
            mailed = fallback.database_down(problem)
            raise CommandError(
                f"データベースに接続できません（{problem}）。"
                + ("OPS_ALERT_EMAILS に直接知らせました。" if mailed else "")
            )
        outage = fallback.pending_outage()
        report = scan.ops_scan(outage=outage)
        if outage:
            fallback.outage_recorded()
        # Debian's pending updates for the monthly report, at most once a day (slow).
        monthly.refresh_apt_simulation()
        return report
