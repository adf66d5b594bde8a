"""The 意見箱: sending, staff notification, status and notes (audited), export to CSV and
Excel, rate limit. Who may read is in kokasen/tips/tests/test_visibility.py."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from openpyxl import load_workbook

from kokasen.core.models import AuditEvent
from kokasen.core.refusals import Refused
from kokasen.feedback import services
from kokasen.feedback.models import Opinion
from kokasen.notifications.models import OutboxMessage
from kokasen.testing import login_member, login_staff

pytestmark = pytest.mark.django_db


def test_member_sends_an_opinion_and_staff_are_told(client, member_a, agency_admin, operator):
    login_member(client, member_a)
    form = client.get(reverse("feedback:send")).content.decode()
    assert 'name="body"' in form and 'autocomplete="email"' in form
    response = client.post(
        reverse("feedback:send"),
        {
            "body": "会議資料のページに日付で並べ替える機能がほしいです。",
            "category": "usability",
            "contact_name": "子育て支援課 田中",
            "contact_email": "tanaka@city.sapporo.example.jp",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("feedback:thanks")
    opinion = Opinion.objects.get()
    assert opinion.local_government == member_a.local_government and opinion.status == Opinion.Status.NEW
    notice = OutboxMessage.objects.get(kind="feedback_received")
    assert notice.to == [] and sorted(notice.bcc) == ["admin@cfa.example.go.jp", "ops@contractor.example.jp"]
    assert "並べ替える" not in notice.body  # the text stays in the admin
    assert f"/admin/feedback/{opinion.pk}/" in notice.body


def test_category_and_contact_are_optional(client, member_a):
    login_member(client, member_a)
    assert client.post(reverse("feedback:send"), {"body": "文字が読みやすいです。"}).status_code == 302
    assert Opinion.objects.get().category == ""


def test_staff_cannot_send_opinions_as_members(client, agency_admin):
    with pytest.raises(PermissionDenied):
        services.opinion_submit(author=agency_admin, body="職員の意見")
    login_staff(client, agency_admin)
    response = client.post(reverse("feedback:send"), {"body": "職員の意見"})
    assert response.status_code == 200 and not Opinion.objects.exists()


def test_rate_limit(member_a):
    for i in range(services.opinion_limit().limit):
        services.opinion_submit(author=member_a, body=f"意見{i}")
    with pytest.raises(Refused, match="しばらくしてから"):
        services.opinion_submit(author=member_a, body="多すぎる意見")


def test_status_and_notes_are_audited(client, member_a, operator):
    opinion = services.opinion_submit(author=member_a, body="スマートフォンで表が見切れます。", category="trouble")
    login_staff(client, operator)
    url = reverse("feedback_admin:detail", args=[opinion.pk])
    response = client.post(url, {"status": "in_progress", "internal_notes": "表の横スクロールを検討"})
    assert response.status_code == 302
    opinion.refresh_from_db()
    assert opinion.status == "in_progress" and opinion.handled_by == operator
    event = AuditEvent.objects.get(action="feedback.opinion_updated")
    assert event.actor == operator
    assert event.detail["status"] == {"old": "new", "new": "in_progress"}
    assert event.detail["internal_notes"] == "changed"  # never the text (decision 0033)
    assert client.post(url, {"status": "bogus"}).status_code == 200
    assert Opinion.objects.get(pk=opinion.pk).status == "in_progress"
    # A member never sees the internal notes: there is no member view of opinions at all.
    login_member(client, member_a)
    assert "横スクロール" not in client.get(reverse("feedback:send")).content.decode()


def test_export_csv_with_bom_and_excel(client, member_a, agency_admin):
    services.opinion_submit(author=member_a, body='=HYPERLINK("http://evil.example")', category="other")
    services.opinion_submit(author=member_a, body="改行を含む\n意見です。", category="content")
    login_staff(client, agency_admin)
    response = client.get(reverse("feedback_admin:index") + "?export=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "受付番号" and len(rows) == 3
    bodies = {r[5] for r in rows[1:]}
    assert "改行を含む\n意見です。" in bodies
    assert '\'=HYPERLINK("http://evil.example")' in bodies  # no formula in Excel

    filtered = client.get(reverse("feedback_admin:index") + "?export=xlsx&category=content")
    sheet = load_workbook(io.BytesIO(filtered.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][5] == "ご意見" and len(values) == 2 and values[1][5] == "改行を含む\n意見です。"
    assert values[1][3] == "北海道札幌市"
    assert AuditEvent.objects.filter(action="feedback.exported").count() == 2
    assert client.get(reverse("feedback_admin:index") + "?export=pdf").status_code == 404


def test_export_keeps_formula_like_text_as_typed(client, member_a, agency_admin):
    # Decision 0024: the Excel cells hold the text as typed (no apostrophe, full-width signs
    # included); the CSV guards every form with the apostrophe.
    bodies = ["=1+2", '＝HYPERLINK("http://evil.example")', "＋1", "－1", "＠SUM(1)", "@SUM(1)", "\n=1+2"]
    for body in bodies:  # straight to the table: the form's rate limit allows 5 an hour
        Opinion.objects.create(author=member_a, local_government=member_a.local_government, body=body)
    login_staff(client, agency_admin)
    sheet = load_workbook(io.BytesIO(client.get(reverse("feedback_admin:index") + "?export=xlsx").content)).active
    cells = {row[5].value: row[5] for row in sheet.iter_rows(min_row=2)}
    assert set(cells) == set(bodies)
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in cells.values())
    assert isinstance(sheet.cell(row=2, column=1).value, int) and sheet.cell(row=2, column=2).is_date
    raw = client.get(reverse("feedback_admin:index") + "?export=csv").content.decode("utf-8-sig")
    exported = {row[5] for row in csv.reader(io.StringIO(raw, newline=""))}
    assert {"'" + body for body in bodies} <= exported
