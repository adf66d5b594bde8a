"""The e-mail of the 意見箱 (services.opinion_submit queues it)."""

from kokasen.notifications import emails

emails.register(emails.Kind("feedback_received", "意見箱：新しい意見のお知らせ"))
