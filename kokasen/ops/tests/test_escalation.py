"""Emergency contacts and escalation (decision 0034): an unacknowledged critical alert is mailed
to the next contact every OPS_ESCALATION_MINUTES, on an injected clock; acknowledging stops it;
the mail goes through the outbox to a real SMTP server on loopback; the contacts' phone numbers
and addresses reach neither the log nor the audit trail."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from kokasen.core.models import AuditEvent
from kokasen.notifications import sender
from kokasen.notifications.models import OutboxMessage
from kokasen.ops import alerts, escalation, scan
from kokasen.ops.models import Alert, EmergencyContact, Escalation

pytestmark = pytest.mark.django_db

PERSONAL = ("090-1111-2222", "duty-lead@contractor.example.jp", "03-3333-4444", "deputy@contractor.example.jp")


@pytest.fixture
def contacts(settings):
    settings.OPS_ESCALATION_MINUTES = 30
    settings.OPS_ALERT_EMAILS = ["ops-duty@contractor.example.jp"]
    return [
        EmergencyContact.objects.create(
            position=1, role="受託者 運用責任者", name="山田 太郎", phone=PERSONAL[0], email=PERSONAL[1], hours="24時間"
        ),
        EmergencyContact.objects.create(position=2, role="受託者 夜間連絡", name="夜間 当番", phone="0120-000-000"),
        EmergencyContact.objects.create(
            position=3,
            role="受託者 副責任者",
            name="佐藤 花子",
            phone=PERSONAL[2],
            email=PERSONAL[3],
            hours="平日 9:00〜18:00",
        ),
        EmergencyContact.objects.create(
            position=4, role="退職した担当者", name="元 担当", email="former@contractor.example.jp", active=False
        ),
    ]


def critical_alert(t0, **fields):
    values = {
        "rule": "export_tampered",
        "key": "/srv/kokasen-static",
        "severity": "critical",
        "summary": "公開サイトの書き出しファイルが改ざんされています（1件）",
        "first_seen": t0,
        "last_seen": t0,
        "count": 1,
        "notified_at": t0,
        "notified_severity": "critical",
    }
    return Alert.objects.create(**{**values, **fields})


def test_the_chain_goes_one_contact_at_a_time_and_stops_when_acknowledged(contacts, operator):
    t0 = timezone.now().replace(microsecond=0)
    alert = critical_alert(t0)
    critical_alert(t0, rule="certificate_expiry", key="/etc/ssl/kokasen/fullchain.pem", severity="warning")
    critical_alert(t0, key="/srv/other", resolved_at=t0 + timedelta(minutes=5))
    assert escalation.escalate(now=t0 + timedelta(minutes=29, seconds=59)) == 0
    assert escalation.escalate(now=t0 + timedelta(minutes=30)) == 1
    assert escalation.escalate(now=t0 + timedelta(minutes=59)) == 0  # the same step is not repeated
    first = OutboxMessage.objects.get(kind="ops_escalation")
    assert first.bcc == [PERSONAL[1]] and "第1段階" in first.subject and "30分以上" in first.subject
    assert f"/admin/ops/alerts/{alert.pk}/" in first.body and "受託者 運用責任者" in first.body
    # The second contact has no address (phone only), the fourth is not used: the next mail is the third's.
    assert escalation.escalate(now=t0 + timedelta(minutes=60)) == 1
    second = OutboxMessage.objects.filter(kind="ops_escalation").order_by("-pk").first()
    assert (
        second.bcc == [PERSONAL[3]]
        and "第2段階" in second.subject
        and "これまでの連絡先：受託者 運用責任者" in second.body
    )
    assert list(alert.escalations.values_list("step", "contact__position")) == [(1, 1), (2, 3)]
    assert escalation.escalate(now=t0 + timedelta(hours=5)) == 0  # everyone in the chain has been told

    other = critical_alert(t0, key="/srv/kokasen-static/second")
    alerts.alert_acknowledge(
        alert=other, note="改ざんされたファイルを確認し、書き出し直しました。", acting_user=operator
    )
    assert escalation.escalate(now=t0 + timedelta(hours=6)) == 0  # acknowledged: no escalation
    assert not other.escalations.exists()


def test_a_missed_run_catches_up_and_off_means_off(contacts, settings):
    t0 = timezone.now().replace(microsecond=0)
    alert = critical_alert(t0, notified_at=None)  # nobody could be mailed: counted from the opening
    Alert.objects.filter(pk=alert.pk).update(opened_at=t0)
    settings.OPS_ESCALATION_MINUTES = 0
    assert escalation.escalate(now=t0 + timedelta(hours=3)) == 0
    settings.OPS_ESCALATION_MINUTES = 30
    assert escalation.escalate(now=t0 + timedelta(minutes=75)) == 2  # two steps were due
    assert Escalation.objects.filter(alert=alert).count() == 2


def test_ops_scan_escalates_through_the_outbox_to_smtp_and_keeps_personal_data_out_of_logs(
    contacts, smtp_server, caplog
):
    caplog.set_level(logging.DEBUG)
    t0 = timezone.now().replace(microsecond=0) - timedelta(minutes=45)
    alert = critical_alert(t0, first_seen=t0, last_seen=t0)
    report = scan.ops_scan(now=t0 + timedelta(minutes=31))
    assert report.outcome.mails == 1
    step = Escalation.objects.get(alert=alert)
    assert step.contact_label == "1. 受託者 運用責任者 山田 太郎"
    sender.send_outbox()
    received = [m for m in smtp_server.received if "緊急連絡" in m.message["Subject"]]
    assert len(received) == 1 and received[0].tls
    assert received[0].rcpt_tos == [PERSONAL[1]]
    assert "第1段階" in received[0].message["Subject"]
    body = received[0].message.get_body(("plain",)).get_content()
    assert "改ざん" in body and "確認されると、次の連絡先へのお知らせは止まります" in body
    assert "To" not in received[0].message or PERSONAL[1] not in str(received[0].message["To"])  # in Bcc
    event = AuditEvent.objects.get(action="ops.alert_escalated")
    assert event.detail == {"step": 1, "position": 1, "role": "受託者 運用責任者"}
    logged = caplog.text + repr(list(AuditEvent.objects.values_list("detail", "target_label")))
    for value in (*PERSONAL, "山田", "佐藤"):
        assert value not in logged, value


def test_the_contact_screens_add_edit_and_delete_audited_without_personal_data(staff_client):
    page = staff_client.get("/admin/ops/contacts/").content.decode()
    assert "緊急連絡先はまだありません" in page
    response = staff_client.post(
        "/admin/ops/contacts/add/",
        {
            "position": "1",
            "role": "受託者 運用責任者",
            "name": "山田 太郎",
            "phone": "abc",
            "email": "",
            "active": "on",
        },
    )
    assert response.status_code == 400 and "電話番号は数字とハイフンで入力してください" in response.content.decode()
    response = staff_client.post(
        "/admin/ops/contacts/add/",
        {"position": "1", "role": "受託者 運用責任者", "name": "山田 太郎", "phone": "", "email": "", "active": "on"},
    )
    assert "メールアドレスか電話番号を入力してください" in response.content.decode()
    data = {
        "position": "1",
        "role": "受託者 運用責任者",
        "name": "山田 太郎",
        "phone": PERSONAL[0],
        "email": PERSONAL[1],
        "hours": "24時間",
        "active": "on",
    }
    response = staff_client.post("/admin/ops/contacts/add/", data, follow=True)
    page = response.content.decode()
    assert (
        "緊急連絡先「受託者 運用責任者」を保存しました" in page
        and PERSONAL[0] in page
        and "メールで段階的に連絡" in page
    )
    contact = EmergencyContact.objects.get()
    assert staff_client.get("/admin/ops/contacts/add/").context["form"].initial["position"] == 2
    response = staff_client.post(f"/admin/ops/contacts/{contact.pk}/", {**data, "phone": "090-9999-8888"}, follow=True)
    contact.refresh_from_db()
    assert contact.phone == "090-9999-8888"
    staff_client.post(f"/admin/ops/contacts/{contact.pk}/delete/")
    assert not EmergencyContact.objects.exists()
    events = AuditEvent.objects.filter(action__startswith="ops.contact_").order_by("pk")
    assert [e.action for e in events] == ["ops.contact_added", "ops.contact_changed", "ops.contact_deleted"]
    assert events[1].detail["fields"] == ["phone"]
    recorded = repr([(e.detail, e.target_label) for e in events])
    for value in (PERSONAL[0], PERSONAL[1], "090-9999-8888", "山田"):
        assert value not in recorded
