"""Incident records and the 事故報告書 (decision 0034): kept on the screens, with a timeline and
related alerts; the report as Word and PDF read back (python-docx, pypdf) with Japanese text,
tables and the chart of the time to each report."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import docx
import pypdf
import pytest
from django.utils import timezone

from kokasen.core.models import AuditEvent
from kokasen.ops import incidents
from kokasen.ops.models import Alert, Incident
from kokasen.testing.documents import docx_text

pytestmark = pytest.mark.django_db


def tampering_alert():
    t0 = timezone.now() - timedelta(hours=30)
    return Alert.objects.create(
        rule="export_tampered",
        key="/srv/kokasen-static",
        severity="critical",
        summary="公開サイトの書き出しファイルが改ざんされています（1件）",
        first_seen=t0,
        last_seen=t0 + timedelta(minutes=20),
        count=5,
    )


def local(value):
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def recorded_incident(staff_client):
    alert = tampering_alert()
    detected = timezone.localtime(alert.first_seen).replace(second=0, microsecond=0)
    page = staff_client.get(f"/admin/ops/incidents/add/?alert={alert.pk}").content.decode()
    assert f'value="{alert.pk}"' in page
    data = {
        "title": "公開サイトのトップページ改ざん <script>alert(1)</script>",
        "kind": "tampering",
        "detected_at": local(detected),
        "summary": "公開サイト（静的書き出し）の index.html が書き換えられ、外部サイトへのリンクが挿入された。\n\n閲覧者への影響は約40分。",
        "oral_reported_at": local(detected - timedelta(minutes=5)),
        "alert_numbers": f"{alert.pk}, 99999",
    }
    response = staff_client.post("/admin/ops/incidents/add/", data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "検知した日時より前の日時は入力できません" in page and "アラート #99999 はありません" in page
    data.update(
        oral_reported_at=local(detected + timedelta(minutes=25)),
        oral_reported_to="こども家庭庁 支援局 担当係",
        written_reported_at=local(detected + timedelta(hours=26)),
        cause="書き出し先フォルダの権限設定の誤りにより、別サービスのアカウントから書き込みが可能だった。",
        measures="応急：書き出しをやり直し、改ざんされたファイルを置き換えた。\n\n再発防止：フォルダの所有者と権限を見直し、監視で検知する。",
        alert_numbers=f"{alert.pk}",
    )
    response = staff_client.post("/admin/ops/incidents/add/", data, follow=True)
    assert "を保存しました" in response.content.decode()
    incident = Incident.objects.get()
    assert list(incident.alerts.all()) == [alert]
    for minutes, text in (
        (10, "fail2ban とファイル監視の記録を確認し、改ざんを確定した。"),
        (40, "書き出しをやり直し、正しいファイルに戻した。"),
    ):
        response = staff_client.post(
            f"/admin/ops/incidents/{incident.pk}/entries/",
            {"at": local(detected + timedelta(minutes=minutes)), "text": text},
            follow=True,
        )
        assert "経過を記録しました" in response.content.decode()
    assert staff_client.post(f"/admin/ops/incidents/{incident.pk}/entries/", {"at": "", "text": ""}).status_code == 400
    return incident, alert


def test_an_incident_is_recorded_with_its_timeline_and_alerts(staff_client, operator):
    incident, alert = recorded_incident(staff_client)
    page = staff_client.get(f"/admin/ops/incidents/{incident.pk}/").content.decode()
    assert "&lt;script&gt;" in page and "<script>alert(1)" not in page
    order = [
        page.index(text)
        for text in (
            "<strong>検知</strong>",
            "fail2ban とファイル監視",
            "こども家庭庁へ第一報",
            "書き出しをやり直し、正しい",
        )
    ]
    assert order == sorted(order)
    assert "報告済み・対応中" in page and f"#{alert.pk} 公開サイトの書き出しファイル" in page
    assert "改ざん" in staff_client.get("/admin/ops/incidents/").content.decode()
    assert f"事故 #{incident.pk}" in staff_client.get(f"/admin/ops/alerts/{alert.pk}/").content.decode()
    form = staff_client.get(f"/admin/ops/incidents/{incident.pk}/edit/").context["form"]
    assert form["alert_numbers"].value() == str(alert.pk)
    data = {
        name: form[name].value() or "" for name in ("title", "kind", "summary", "oral_reported_to", "cause", "measures")
    }
    response = staff_client.post(
        f"/admin/ops/incidents/{incident.pk}/edit/",
        {
            **data,
            "detected_at": local(incident.detected_at),
            "oral_reported_at": local(incident.oral_reported_at),
            "written_reported_at": local(incident.written_reported_at),
            "closed_at": local(incident.detected_at + timedelta(days=3)),
            "alert_numbers": str(alert.pk),
        },
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.closed_at and incident.status_label == "終結"
    actions = list(AuditEvent.objects.filter(action__startswith="ops.incident").values_list("action", flat=True))
    assert actions.count("ops.incident_added") == 1 and actions.count("ops.incident_entry_added") == 2
    assert "ops.incident_changed" in actions


def test_the_report_in_word_and_pdf(staff_client, artifacts_dir):
    incident, alert = recorded_incident(staff_client)
    word = staff_client.get(f"/admin/ops/incidents/{incident.pk}/report.docx")
    assert (
        word["Content-Type"].startswith("application/vnd.openxmlformats")
        and "attachment" in word["Content-Disposition"]
    )
    assert "no-store" in word["Cache-Control"]
    (artifacts_dir / "ops-incident-report.docx").write_bytes(word.content)
    document = docx.Document(io.BytesIO(word.content))
    text = docx_text(document)
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [
        "1. 事故の概要",
        "1.1 概要・影響",
        "2. 経過",
        "3. 原因",
        "4. 対策（応急・再発防止）",
        "5. 関連する監視のアラート",
        "6. 個人情報の取扱い",
    ]
    for expected in (
        "事故報告書",
        "公開サイトのトップページ改ざん <script>alert(1)</script>",
        "こども家庭庁 支援局 担当係",
        "閲覧者への影響は約40分。",
        "権限設定の誤り",
        "fail2ban とファイル監視の記録を確認し、改ざんを確定した。",
        "\n25分\n",  # detection to the first oral report
        "1日2時間0分",  # to the written report
        f"#{alert.pk}",
        "図1　検知から報告・終結までの経過（時間）",
    ):
        assert expected in text, expected
    assert len(document.inline_shapes) == 1  # the chart
    assert "こども家庭庁へ第一報（口頭）" in document.inline_shapes[0]._inline.docPr.get("descr")

    pdf = staff_client.get(f"/admin/ops/incidents/{incident.pk}/report.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    (artifacts_dir / "ops-incident-report.pdf").write_bytes(pdf.content)
    reader = pypdf.PdfReader(io.BytesIO(pdf.content))
    flat = re.sub(r"\s+", "", "\n".join(page.extract_text() for page in reader.pages))
    for expected in (
        "事故報告書",
        "公開サイトのトップページ改ざん<script>alert(1)</script>",
        "2.経過",
        "改ざんを確定した。",
        "再発防止：フォルダの所有者と権限を見直し",
        "図1検知から報告・終結までの経過（時間）",
        "書面で報告",
    ):
        assert expected in flat, expected
    assert flat.count("こども家庭庁へ第一報（口頭）") == 2  # the timeline and the chart's label
    assert reader.metadata.title.startswith("事故報告書（")


def test_the_chart_counts_minutes_for_a_quick_incident_and_is_left_out_without_reports():
    t0 = timezone.now()
    incident = Incident.objects.create(title="夜間の停止", kind="outage", detected_at=t0)
    assert incidents.milestone_chart(incident) is None
    blocks = incidents.report_blocks(incident, created_on=timezone.localdate())
    assert not any(type(b).__name__ == "FigureBlock" for b in blocks)
    incident.oral_reported_at = t0 + timedelta(minutes=12)
    incident.closed_at = t0 + timedelta(hours=2)
    chart = incidents.milestone_chart(incident)
    assert chart.unit == "分" and chart.series[0].values == (12, 120)
    incident.closed_at = t0 + timedelta(hours=30)
    assert incidents.milestone_chart(incident).series[0].values == (0.2, 30.0)
    assert incidents.elapsed(t0, t0 + timedelta(days=2, hours=3, minutes=4)) == "2日3時間4分"
