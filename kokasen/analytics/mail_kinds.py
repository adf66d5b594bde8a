"""The e-mail of the analytics: the monthly 効果分析報告書's notice (report.notify, decision 0052)."""

from kokasen.notifications import emails

ANALYTICS_REPORT = "analytics_report"
emails.register(emails.Kind(ANALYTICS_REPORT, "アクセス解析：効果分析報告書のお知らせ"))
