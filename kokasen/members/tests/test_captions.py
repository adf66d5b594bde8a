"""Captions for the members' videos (issue 18 item 2; WCAG 1.2.2, 1.2.3, 1.2.5).

A WebVTT track is uploaded like any document (checked: the WEBVTT signature, UTF-8, a size
limit), chosen on the 座談会 page, served through the document view and its access check
(who may fetch it: test_media_personas.py), and rendered as
``<track kind="captions" srclang="ja" label="日本語" default>``; the transcript is shown under
the video. The admin warns when a video has neither captions nor a transcript."""

import io
import re

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.documents import get_document_model
from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

from kokasen.accounts import roles
from kokasen.members import uploads
from kokasen.members.models import NO_CAPTIONS_MARK, RoundtablePage
from kokasen.members.services import members_collection
from kokasen.testing import CODE_A, login_member, login_staff, make_member, make_staff

pytestmark = pytest.mark.django_db

VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n司会：本日はお集まりいただきありがとうございます。\n".encode()
SRT = "1\n00:00:00,000 --> 00:00:02,000\n司会：本日は\n".encode()
LIMITS = uploads.Limits(document=50 * 1024 * 1024, video=2000 * 1024 * 1024)


def problems(name, data):
    return uploads.check_upload(name, len(data), io.BytesIO(data), LIMITS, {"pdf", "vtt"})


@pytest.mark.parametrize(
    "data",
    [VTT, b"\xef\xbb\xbf" + VTT, VTT.replace(b"\n", b"\r\n"), b"WEBVTT - \xe7\xac\xac1\xe5\x9b\x9e\n\n", b"WEBVTT"],
)
def test_webvtt_is_accepted(data):
    assert problems("字幕.vtt", data) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (SRT, "1 行目が「WEBVTT」で始まる"),
        (b"WEBVTTX\n", "1 行目が「WEBVTT」で始まる"),
        (b"<!DOCTYPE html><script>alert(1)</script>", "WebVTT 形式"),
        (VTT.decode().encode("cp932"), "UTF-8 にしてください"),
        (b"WEBVTT\n\n\x00\x01", "UTF-8 にしてください"),
        (b"", "ファイルが空です"),
        (b"WEBVTT\n\n" + b"a" * uploads.CAPTION_MAX_SIZE, "字幕ファイルが大きすぎます"),
    ],
)
def test_a_bad_caption_file_is_refused_in_japanese(data, message):
    found = problems("字幕.vtt", data)
    assert found and message in found[0], found


def test_the_admin_refuses_a_bad_track_and_stores_a_good_one(client):
    login_staff(client, make_staff(roles.AGENCY_ADMIN))
    Document = get_document_model()

    def upload(name, data, title):
        form = {"title": title, "file": SimpleUploadedFile(name, data), "collection": members_collection().pk}
        return client.post(reverse("wagtaildocs:add"), {**form, "tags": ""})

    refused = upload("座談会.vtt", SRT, "SRT の字幕")
    assert refused.status_code == 200 and "1 行目が「WEBVTT」で始まる" in refused.content.decode()
    assert not Document.objects.filter(title="SRT の字幕").exists()
    assert upload("座談会 字幕.vtt", VTT, "座談会の字幕").status_code == 302
    assert Document.objects.get(title="座談会の字幕").file.name.endswith(".vtt")


def test_the_track_must_be_a_protected_vtt(demo_site):
    roundtable = RoundtablePage.objects.get(slug="roundtable-01")
    roundtable.full_clean()  # the demo's track is valid
    roundtable.captions = roundtable.handouts.first().document  # a PDF in the right collection
    with pytest.raises(ValidationError, match="WebVTT 形式"):
        roundtable.full_clean()
    roundtable.captions = get_document_model().objects.filter(collection__depth=1).first()
    with pytest.raises(ValidationError, match="会員限定資料"):
        roundtable.full_clean()


def test_a_member_gets_the_track_and_the_transcript_beside_the_video(client, demo_site):
    roundtable = RoundtablePage.objects.get(slug="roundtable-01")
    assert roundtable.captions is not None, "the demo's first roundtable has a caption track"
    login_member(client, make_member(CODE_A))
    html = client.get(roundtable.url).content.decode()
    video = html[html.index("<video") : html.index("</video>")]
    track = re.search(r"<track [^>]*>", video).group(0)
    for attribute in (
        'kind="captions"',
        'srclang="ja"',
        'label="日本語"',
        f'src="{roundtable.captions.url}"',
        "default",
    ):
        assert attribute in track, track
    transcript = html[html.index("</video>") : html.index("</section>", html.index("</video>"))]
    assert "動画の内容（文字起こし・要旨）" in transcript and "<details" not in transcript
    track_file = client.get(roundtable.captions.url)
    assert track_file.status_code == 200 and track_file["Content-Type"] == "text/vtt; charset=utf-8"
    assert b"".join(track_file.streaming_content).startswith(b"WEBVTT")


def edit(client, page, **changes):
    fields = {
        "title": page.title,
        "slug": page.slug,
        "held_on": page.held_on.isoformat(),
        "summary": page.summary,
        "tags": "",
        "video": page.video_id or "",
        "captions": page.captions_id or "",
        "transcript": page.transcript,
        "handouts": inline_formset(
            [{"id": h.pk, "document": h.document_id, "title": h.title} for h in page.handouts.all()]
        ),
        "body": streamfield([]),
        "comments": inline_formset([]),
    }
    fields.update(changes)
    return client.post(reverse("wagtailadmin_pages:edit", args=[page.pk]), nested_form_data(fields))


def test_the_admin_warns_of_a_video_without_captions_or_transcript(client, demo_site):
    login_staff(client, make_staff(roles.AGENCY_ADMIN))
    page = RoundtablePage.objects.get(slug="roundtable-01")
    edit_url = reverse("wagtailadmin_pages:edit", args=[page.pk])
    assert "字幕（WebVTT）か文字起こしを付けてください" in client.get(edit_url).content.decode()  # the panel's help

    response = edit(client, page, captions="", transcript="")
    assert response.status_code == 302, response.content.decode()[:3000]
    warnings = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert any("字幕も文字起こしもありません" in m for m in warnings), warnings
    listing = client.get(reverse("wagtailadmin_explore", args=[page.get_parent().pk])).content.decode()
    assert page.title + NO_CAPTIONS_MARK in listing

    page.refresh_from_db()
    fixed = edit(client, page, transcript="司会が趣旨を説明しました。")
    assert fixed.status_code == 302
    assert not [m for m in get_messages(fixed.wsgi_request) if m.level_tag == "warning"]
    listing = client.get(reverse("wagtailadmin_explore", args=[page.get_parent().pk])).content.decode()
    assert NO_CAPTIONS_MARK not in listing
