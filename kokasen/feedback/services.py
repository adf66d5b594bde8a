"""Writes of the 意見箱: a member sends an opinion; staff change its status and notes."""

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from kokasen.accounts import access
from kokasen.accounts.selectors import staff_addresses
from kokasen.core import text
from kokasen.core.audit import audit_record
from kokasen.core.refusals import Refused
from kokasen.core.throttle import Limit
from kokasen.notifications import emails
from kokasen.notifications.services import broadcast_queue

from .models import Opinion


def opinion_limit() -> Limit:
    """Opinions per account per hour (settings.FEEDBACK_OPINIONS_PER_HOUR)."""
    return Limit("feedback-opinion", getattr(settings, "FEEDBACK_OPINIONS_PER_HOUR", 5), 3600)


BODY_MAX = 2000
NOTES_MAX = 4000


@transaction.atomic
def opinion_submit(
    *, author, body: str, category: str = "", contact_name: str = "", contact_email: str = "", request=None
) -> Opinion:
    """Store a member's opinion and queue one Bcc notice to 管理者 and 受託者 (without the
    opinion's text: it is read in the admin, not spread by e-mail)."""
    access.require(author, access.MEMBER)
    body = text.clean(body or "")
    if not body:
        raise Refused("ご意見を入力してください。")
    if text.too_long(body, BODY_MAX):
        raise Refused(f"ご意見は{BODY_MAX}文字以内で入力してください。")
    if category and category not in Opinion.Category.values:
        raise Refused("分類を一覧から選んでください。")
    if opinion_limit().exceeded(str(author.pk)):
        raise Refused(
            "短い時間に続けて送信されたため、受け付けを一時的に止めています。しばらくしてからもう一度お試しください。"
        )
    opinion = Opinion.objects.create(
        author=author,
        local_government_id=author.local_government_id,
        category=category,
        body=body,
        contact_name=text.clean(contact_name or "")[:100],
        contact_email=(contact_email or "").strip(),
    )
    opinion_limit().record(str(author.pk))
    audit_record(action="feedback.opinion_sent", acting_user=author, target=opinion, request=request)
    recipients = staff_addresses()
    if recipients:
        subject, message = emails.render(
            "feedback_received",
            {"opinion": opinion, "url": emails.absolute(reverse("feedback_admin:detail", args=[opinion.pk]))},
        )
        broadcast_queue(
            kind="feedback_received",
            bcc=recipients,
            subject=subject,
            body=message,
            dedupe_key=f"feedback-received:{opinion.pk}",
        )
    return opinion


@transaction.atomic
def opinion_update(*, opinion: Opinion, acting_user, status: str, internal_notes: str, request=None) -> Opinion:
    access.require(acting_user, access.STAFF)
    if status not in Opinion.Status.values:
        raise Refused("対応状況を一覧から選んでください。")
    notes = text.clean(internal_notes or "")
    if len(notes) > NOTES_MAX:
        raise Refused(f"内部メモは{NOTES_MAX}文字以内で入力してください。")
    opinion = Opinion.objects.select_for_update().get(pk=opinion.pk)
    changes = {}
    if opinion.status != status:
        changes["status"] = {"old": opinion.status, "new": status}
    if opinion.internal_notes != notes:
        # That the notes changed, never their text (decision 0033).
        changes["internal_notes"] = "changed"
    if changes:
        opinion.status, opinion.internal_notes, opinion.handled_by = status, notes, acting_user
        opinion.save()
        audit_record(
            action="feedback.opinion_updated", acting_user=acting_user, target=opinion, detail=changes, request=request
        )
    return opinion
