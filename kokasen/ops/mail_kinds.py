"""The e-mails of ops_scan (alerts.py queues the first two; fallback.py sends the third itself,
over SMTP, because it is written while the database, and with it the outbox, is down)."""

from kokasen.notifications import emails

OPS_ALERT = "ops_alert"
OPS_RECOVERY = "ops_recovery"
OPS_DATABASE_UNREACHABLE = "ops_database_unreachable"

emails.register(emails.Kind(OPS_ALERT, "運用・セキュリティ：アラートのお知らせ"))
emails.register(emails.Kind(OPS_RECOVERY, "運用・セキュリティ：アラート解消のお知らせ"))
emails.register(emails.Kind(OPS_DATABASE_UNREACHABLE, "運用・セキュリティ：データベース停止のお知らせ（直接送信）"))
OPS_ESCALATION = "ops_escalation"
emails.register(emails.Kind(OPS_ESCALATION, "運用・セキュリティ：重大なアラートのエスカレーション"))
OPS_MONTHLY_REPORT = "ops_monthly_report"
emails.register(emails.Kind(OPS_MONTHLY_REPORT, "運用・セキュリティ：月次報告のお知らせ"))
