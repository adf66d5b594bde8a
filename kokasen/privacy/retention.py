"""Retention periods, enforced every night by ``manage.py apply_retention`` (decision 0033).

Each store keeps its personal data for the number of days in ``PRIVACY_RETENTION_DAYS`` and
loses exactly that, nothing else. ``now`` is a parameter so that tests can move the clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from kokasen.accounts.lockout import LOGIN_ACTIONS
from kokasen.analytics.models import ZeroResultSearchDay
from kokasen.core.models import AuditEvent
from kokasen.feedback.models import Opinion
from kokasen.notifications.models import OutboxMessage
from kokasen.tips.models import Post

STORES = {
    "outbox_content": "送信メールの件名・本文・宛先（送信完了・失敗・取消の後）",
    "opinion_contacts": "意見箱の連絡先（受付の後）",
    "post_contacts": "小ネタの連絡先（投稿の後）",
    "login_attempts": "ログインの記録（IPアドレスを含む）",
    "audit": "その他の監査ログ",
    "sessions": "有効期限の切れたセッション",
    "search_queries": "該当なしだったサイト内検索の検索語（日別の回数）",
}
FINISHED = [OutboxMessage.Status.SENT, OutboxMessage.Status.FAILED, OutboxMessage.Status.CANCELLED]


def _cutoff(store: str, now: datetime) -> datetime:
    return now - timedelta(days=settings.PRIVACY_RETENTION_DAYS[store])


@transaction.atomic
def apply_retention(now: datetime | None = None) -> dict[str, int]:
    """Erase or delete what is older than its store's period; returns the count per store."""
    now = now or timezone.now()
    done = {}
    done["outbox_content"] = (
        OutboxMessage.objects.filter(status__in=FINISHED, content_erased_at__isnull=True)
        .annotate(finished=Coalesce("sent_at", "claimed_at", "created_at"))
        .filter(finished__lt=_cutoff("outbox_content", now))
        .update(subject="", body="", to=[], bcc=[], last_error="", secret_nonce="", content_erased_at=now)
    )
    done["opinion_contacts"] = (
        Opinion.objects.filter(created_at__lt=_cutoff("opinion_contacts", now))
        .filter(~Q(contact_name="") | ~Q(contact_email=""))
        .update(contact_name="", contact_email="")
    )
    done["post_contacts"] = (
        Post.objects.filter(submitted_at__lt=_cutoff("post_contacts", now))
        .filter(~Q(contact_email="") | ~Q(department="") | ~Q(person_name=""))
        .update(contact_email="", department="", person_name="")
    )
    logins = AuditEvent.objects.filter(action__in=LOGIN_ACTIONS)
    done["login_attempts"] = logins.filter(created_at__lt=_cutoff("login_attempts", now)).delete()[0]
    others = AuditEvent.objects.exclude(action__in=LOGIN_ACTIONS)
    done["audit"] = others.filter(created_at__lt=_cutoff("audit", now)).delete()[0]
    done["sessions"] = Session.objects.filter(expire_date__lt=_cutoff("sessions", now)).delete()[0]
    oldest_kept = timezone.localdate(_cutoff("search_queries", now))  # rows are local days
    done["search_queries"] = ZeroResultSearchDay.objects.filter(day__lt=oldest_kept).delete()[0]
    return done
