"""The initiatives index: filters by prefecture, population band (NULL population included)
and keyword, as a GET form that works without JavaScript; pagination."""

import datetime
import re
from urllib.parse import urlencode

import pytest

from kokasen.localgov.models import LocalGovernment
from kokasen.members.models import PER_PAGE, InitiativeIndexPage, InitiativePage
from kokasen.members.selectors import band_q
from kokasen.testing import CODE_A, login_member, make_member
from kokasen.testing.html import page_html

pytestmark = pytest.mark.django_db

FUTABA = "075469"  # 福島県双葉町: no population figure in the 2020 census (NULL)
SAPPORO = "011002"  # 1,973,395


@pytest.fixture
def index(demo_site):
    index = InitiativeIndexPage.objects.get()
    for code, title, summary in [
        (FUTABA, "【テスト】帰還した家庭への訪問", "帰還した子育て家庭を訪問する取組（テスト用）"),
        (SAPPORO, "【テスト】区ごとの統括支援員会議", "区の統括支援員が集まる会議（テスト用）"),
    ]:
        page = InitiativePage(
            title=title,
            slug=f"test-{code}",
            summary=summary,
            local_government=LocalGovernment.objects.get(code=code),
            published_on=datetime.date(2025, 11, 1),
        )
        index.add_child(instance=page)
        page.save_revision().publish()
    return index


@pytest.fixture
def member(client):
    login_member(client, make_member(CODE_A))
    return client


def titles(client, index, **params):
    response = client.get(index.url + ("?" + urlencode(params) if params else ""))
    assert response.status_code == 200
    html = page_html(response)
    pattern = (
        r'class="app-card__title"><a class="app-card__link" href="[^"]+">(?:<span class="app-u-phrases">)?([^<]+)<'
    )
    return re.findall(pattern, html), html


def test_no_filter_lists_everything_newest_first(member, index):
    found, html = titles(member, index)
    assert len(found) == 5
    assert found[:2] == ["【テスト】帰還した家庭への訪問", "【テスト】区ごとの統括支援員会議"] or found[:2] == [
        "【テスト】区ごとの統括支援員会議",
        "【テスト】帰還した家庭への訪問",
    ]
    assert "5件の取組" in html


@pytest.mark.parametrize(
    ("band", "expected"),
    [
        ("lt10k", {"【サンプル】小規模自治体での一体的な相談体制"}),  # 西粟倉村 1,398
        ("10k-50k", {"【サンプル】母子保健と児童福祉の合同ケース会議"}),  # 小布施町 10,660
        ("50k-200k", {"【サンプル】妊娠期からの切れ目ない面談の取組"}),  # 名張市 76,387
        ("200k-500k", set()),
        ("500k+", {"【テスト】区ごとの統括支援員会議"}),  # 札幌市
        ("unknown", {"【テスト】帰還した家庭への訪問"}),  # 双葉町: NULL
    ],
)
def test_population_band(member, index, band, expected):
    found, _ = titles(member, index, population=band)
    assert set(found) == expected


def test_a_null_population_is_in_no_numeric_band(index):
    futaba = LocalGovernment.objects.filter(code=FUTABA)
    assert futaba.get().population is None
    for band in ("lt10k", "10k-50k", "50k-200k", "200k-500k", "500k+"):
        assert not futaba.filter(band_q(band, prefix="population")).exists()
    assert futaba.filter(band_q("unknown", prefix="population")).exists()


@pytest.mark.parametrize(
    ("population", "band"),
    [
        (9_999, "lt10k"),
        (10_000, "10k-50k"),
        (49_999, "10k-50k"),
        (50_000, "50k-200k"),
        (199_999, "50k-200k"),
        (200_000, "200k-500k"),
        (500_000, "500k+"),
    ],
)
def test_band_boundaries(db, population, band):
    row = LocalGovernment.objects.filter(code=SAPPORO)
    row.update(population=population)  # rolled back after the test
    matching = [
        key
        for key in ("lt10k", "10k-50k", "50k-200k", "200k-500k", "500k+", "unknown")
        if row.filter(band_q(key, prefix="population")).exists()
    ]
    assert matching == [band]


def test_prefecture(member, index):
    found, html = titles(member, index, prefecture="24")  # 三重県
    assert found == ["【サンプル】妊娠期からの切れ目ない面談の取組"]
    assert '<option value="24" selected>三重県</option>' in html


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("名張", {"【サンプル】妊娠期からの切れ目ない面談の取組"}),  # the local government's name
        ("ケース会議", {"【サンプル】母子保健と児童福祉の合同ケース会議"}),  # the title
        ("訪問", {"【サンプル】妊娠期からの切れ目ない面談の取組", "【テスト】帰還した家庭への訪問"}),  # summary
        ("訪問　福島県", {"【テスト】帰還した家庭への訪問"}),  # all words (full-width space), prefecture
        ("ｹｰｽ会議", {"【サンプル】母子保健と児童福祉の合同ケース会議"}),  # half-width kana folded (NFKC)
        ("存在しない語", set()),
    ],
)
def test_keyword(member, index, q, expected):
    found, html = titles(member, index, q=q)
    assert set(found) == expected
    if not expected:
        assert "条件に合う取組はありません" in html


def test_filters_combine(member, index):
    found, _ = titles(member, index, prefecture="20", population="10k-50k", q="会議")
    assert found == ["【サンプル】母子保健と児童福祉の合同ケース会議"]
    found, _ = titles(member, index, prefecture="20", population="lt10k")
    assert found == []


def test_a_wrong_value_is_reported_in_japanese_and_ignored(member, index):
    found, html = titles(member, index, population="huge", prefecture="99")
    assert len(found) == 5
    assert "絞り込みの条件を確認してください" in html and "選択肢の中から選んでください。" in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="id_population-hint id_population-error"' in html
    found, html = titles(member, index, q="あ" * 101)
    assert "キーワードは100文字以内で入力してください。" in html


def test_the_form_is_a_plain_get_form_with_labels(member, index):
    _, html = titles(member, index)
    assert re.search(r'<form class="app-filter" method="get" action="/members/initiatives/"', html)
    for field in ("prefecture", "population", "q"):
        assert f'<label class="app-form__label" for="id_{field}">' in html
    assert '<button class="app-form__button" type="submit">' in html


def test_pagination_keeps_the_filters(member, index):
    sapporo = LocalGovernment.objects.get(code=SAPPORO)
    for n in range(PER_PAGE + 2):
        page = InitiativePage(
            title=f"【テスト】連番の取組 {n:02d}",
            slug=f"numbered-{n}",
            summary="ページ送りの確認用（テスト用）",
            local_government=sapporo,
            published_on=datetime.date(2024, 1, 1) + datetime.timedelta(days=n),
        )
        index.add_child(instance=page)
        page.save_revision().publish()
    first, html = titles(member, index, population="500k+")
    assert len(first) == PER_PAGE and "13件の取組（1／2ページ）" in html
    assert 'href="?population=500k%2B&amp;page=2" rel="next"' in html
    second, html = titles(member, index, population="500k+", page=2)
    assert len(second) == 3 and not set(first) & set(second)
    assert 'aria-current="page">2<' in html
    last, _ = titles(member, index, population="500k+", page=99)  # past the end: the last page
    assert last == second
