"""A hostile-input corpus through the real forms: stored as typed (minus bidi controls),
shown escaped everywhere, and oversize input refused with a Japanese message."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from kokasen.core import text
from kokasen.feedback.models import Opinion
from kokasen.testing import login_member, login_staff
from kokasen.tips.models import ModerationMode, Post

from .conftest import set_mode

pytestmark = pytest.mark.django_db

CORPUS = [
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">',
    '"><svg onload=alert(document.cookie)>',
    "javascript:alert(1)",
    '<a href="javascript:alert(1)">ここを押す</a>',
    "{{ settings.SECRET_KEY }} {% debug %}",
    "請求書\u202eexe.pdf\u202c と \u2066隔離\u2069",
    "絵文字👨‍👩‍👧‍👦と🇯🇵と👍🏽、結合文字が\u3099と e\u0301",
    "全角ＡＢＣ１２３と半角ABC123とｶﾀｶﾅ　全角スペース",
    "https://example.com/?q=<b>&amp;x=1",
]


class Elements(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def elements(html):
    parser = Elements()
    parser.feed(html)
    return parser.tags


def assert_inert(html):
    for tag, attrs in elements(html):
        assert tag != "svg" and tag != "img", (tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("href", "src"):
            assert not (attrs.get(name) or "").strip().lower().startswith("javascript:"), (tag, attrs)
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), attrs  # only our own files
    assert "\u202e" not in html and "\u2066" not in html
    assert "alert('xss')</script>" not in html


def test_corpus_is_stored_and_shown_safely(client, topic, member_a, member_b, agency_admin, settings):
    settings.TIPS_POSTS_PER_HOUR = 100
    set_mode(ModerationMode.POST, max_length=400)
    login_member(client, member_a)
    url = reverse("tips:topic", args=[topic.pk])
    for body in CORPUS:
        response = client.post(url, {"body": body, "show_local_government": "on", "department": "<b>子育て支援課</b>"})
        assert response.status_code == 302, response.content.decode()[:500]
    stored = list(Post.objects.order_by("pk").values_list("body", flat=True))
    assert stored == [text.clean(b) for b in CORPUS]
    assert stored[0] == CORPUS[0]  # no HTML stripping: the text is kept as typed
    assert "\u202e" not in stored[6] and stored[6] == "請求書exe.pdf と 隔離"
    assert stored[8] == CORPUS[8]  # no width folding

    client.logout()
    login_member(client, member_b)
    html = client.get(url).content.decode()
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in html
    assert "&lt;b&gt;子育て支援課&lt;/b&gt;" in html
    assert "{{ settings.SECRET_KEY }}" in html  # shown as text, never evaluated
    assert "👨‍👩‍👧‍👦" in html and "ＡＢＣ１２３" in html
    assert_inert(html)

    client.logout()
    login_staff(client, agency_admin)
    queue = client.get(reverse("tips_admin:queue")).content.decode()
    assert "&lt;script&gt;" in queue
    detail = client.get(reverse("tips_admin:post", args=[Post.objects.first().pk])).content.decode()
    assert "<script>alert('xss')" not in queue + detail
    assert "<img src=x onerror" not in queue + detail


def test_contact_address_cannot_carry_a_link(client, topic, member_a):
    set_mode(ModerationMode.POST)
    login_member(client, member_a)
    url = reverse("tips:topic", args=[topic.pk])
    for address in (
        "javascript:alert(1)",
        '"><script>@x.jp',
        "a@b.jp?cc=all@example.jp",
        "tanaka@example.jp\nBcc: x@y.jp",
    ):
        response = client.post(url, {"body": "連絡先の確認", "contact_email": address})
        assert response.status_code == 400
        assert "メールアドレスの形式で入力してください" in response.content.decode()
    assert not Post.objects.exists()


def test_length_counts_what_people_see(client, topic, member_a):
    set_mode(ModerationMode.PRE, max_length=20)
    login_member(client, member_a)
    url = reverse("tips:topic", args=[topic.pk])
    fits = "👨‍👩‍👧‍👦" * 10 + "か\u3099" * 10  # 20 characters, 90 code points
    assert client.post(url, {"body": fits}).status_code == 302
    response = client.post(url, {"body": "あ" * 21})
    assert response.status_code == 400
    html = response.content.decode()
    assert "20文字以内で入力してください（現在21文字です）" in html
    assert 'role="alert"' in html and 'aria-invalid="true"' in html and "id_body-error" in html
    assert Post.objects.count() == 1


def test_contact_fields_have_japanese_length_messages(client, topic, member_a):
    set_mode(ModerationMode.PRE, field_person_name="optional")
    login_member(client, member_a)
    response = client.post(
        reverse("tips:topic", args=[topic.pk]), {"body": "本文", "department": "課" * 101, "person_name": "名" * 61}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "部署は100文字以内で入力してください。" in html and "氏名は60文字以内で入力してください。" in html
    assert not Post.objects.exists()


def test_required_contact_fields(client, topic, member_a):
    set_mode(ModerationMode.PRE, field_email="required", field_department="required")
    login_member(client, member_a)
    response = client.post(reverse("tips:topic", args=[topic.pk]), {"body": "本文"})
    html = response.content.decode()
    assert "連絡先メールアドレスを入力してください。" in html and "部署を入力してください。" in html
    assert not Post.objects.exists()


@pytest.mark.parametrize("name", ["tips", "feedback"])
def test_a_ten_megabyte_body_is_refused_cleanly(client, topic, member_a, name):
    login_member(client, member_a)
    url = reverse("tips:topic", args=[topic.pk]) if name == "tips" else reverse("feedback:send")
    response = client.post(url, {"body": "あ" * (10 * 1024 * 1024 // 3 + 1)})
    assert response.status_code == 413
    html = response.content.decode()
    assert "送信された内容が大きすぎます" in html and "何も保存されていません" in html
    assert not Post.objects.exists() and not Opinion.objects.exists()


def test_opinion_form_refuses_oversize_and_escapes(client, member_a, agency_admin, settings):
    settings.FEEDBACK_OPINIONS_PER_HOUR = 100
    login_member(client, member_a)
    url = reverse("feedback:send")
    response = client.post(url, {"body": "意" * 2001})
    assert response.status_code == 400
    assert "2000文字以内で入力してください" in response.content.decode()
    response = client.post(url, {"body": "あ", "contact_name": "名" * 101, "category": "nonsense"})
    html = response.content.decode()
    assert "連絡先（部署・氏名）は100文字以内で入力してください。" in html and "分類を一覧から選んでください。" in html
    assert not Opinion.objects.exists()
    for body in CORPUS:
        assert client.post(url, {"body": body, "contact_name": body[:100]}).status_code == 302
    assert list(Opinion.objects.order_by("pk").values_list("body", flat=True)) == [text.clean(b) for b in CORPUS]
    client.logout()
    login_staff(client, agency_admin)
    listing = client.get(reverse("feedback_admin:index")).content.decode()
    assert "&lt;script&gt;" in listing and "<script>alert" not in listing
    for opinion in Opinion.objects.all():
        assert_inert_admin(client.get(reverse("feedback_admin:detail", args=[opinion.pk])).content.decode())


def assert_inert_admin(html):
    assert "<script>alert" not in html and "<img src=x" not in html and "<svg onload" not in html
    assert '<a href="javascript:' not in html
