"""The address-list parser (P2.6): pure Python, no database."""

import csv
import io
import zipfile

import openpyxl
import pytest

from kokasen.accounts.address_list import MAX_DATA_ROWS, AddressListResult, Entry, parse_address_list
from kokasen.core.refusals import Problem
from kokasen.core.tables import MAX_FILE_BYTES, UNDECODABLE
from kokasen.localgov.codes import check_digit

# Real codes and names (総務省), plus one invented code to test the ambiguous 5-digit reading.
KNOWN = {
    "010006": "北海道",
    "011002": "札幌市",
    "012025": "函館市",
    "130001": "東京都",
    "131016": "千代田区",
    "110027": "架空市",  # 11002 + check digit; collides with 011002 without its leading zero
}
PREFECTURE_OF = {
    "010006": "北海道",
    "011002": "北海道",
    "012025": "北海道",
    "130001": "東京都",
    "131016": "東京都",
    "110027": "埼玉県",
}
HEADER = ["団体コード", "団体名", "メールアドレス"]


def csv_bytes(rows, encoding="utf-8"):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("メモ").append(["この", "シートは", "読まない"])
    workbook.active = 1  # the first sheet is read, not the active one
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def parse(data, filename="list.csv"):
    return parse_address_list(data, filename, known=KNOWN, prefecture_of=PREFECTURE_OF)


def parse_rows(rows, header=HEADER):
    return parse(csv_bytes([header, *rows]))


def messages(result):
    return [str(p) for p in result.errors]


def assert_rejected(result):
    assert not result.ok
    assert result.entries == []


# --- happy paths ---------------------------------------------------------------------------

HAPPY = [
    HEADER + ["担当部署"],
    ["011002", "札幌市", "kodomo@city.sapporo.jp", "子ども未来局"],
    ["010006", "北海道", "kosodate@pref.hokkaido.lg.jp", "保健福祉部"],
    ["012025", "北海道函館市", "a@city.hakodate.hokkaido.jp", ""],
]
HAPPY_ENTRIES = [
    Entry("010006", "北海道", ("kosodate@pref.hokkaido.lg.jp",), (3,)),
    Entry("011002", "札幌市", ("kodomo@city.sapporo.jp",), (2,)),
    Entry("012025", "函館市", ("a@city.hakodate.hokkaido.jp",), (4,)),
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_csv_in_each_encoding(encoding):
    data = csv_bytes(HAPPY, encoding)
    if encoding == "utf-8-sig":
        assert data.startswith(b"\xef\xbb\xbf")
    result = parse(data)
    assert result.errors == []
    assert result.ok
    assert result.encoding == encoding
    assert result.entries == HAPPY_ENTRIES  # sorted by code, official names


def test_shift_jis_name_is_accepted_as_cp932():
    result = parse(csv_bytes(HAPPY, "shift_jis"), "名簿.CSV")
    assert (result.ok, result.encoding, result.entries) == (True, "cp932", HAPPY_ENTRIES)


def test_xlsx_first_sheet_with_numeric_codes():
    rows = [list(r) for r in HAPPY]
    rows[1][0] = 11002  # Excel turned 011002 into a number
    rows[2][0] = 10006.0  # and kept it as a float
    result = parse(xlsx_bytes(rows), "名簿.xlsx")
    assert result.errors == []
    assert result.encoding == "xlsx"
    assert result.entries == HAPPY_ENTRIES


def test_xlsx_detected_by_content_even_with_a_csv_name():
    result = parse(xlsx_bytes(HAPPY), "list.csv")
    assert (result.ok, result.encoding) == (True, "xlsx")


def test_header_variants_and_extra_columns():
    header = ["備考", " 団体コード ", "\u3000団体名\u3000", "メール アドレス", "担当部署"]
    result = parse_rows([["x", "011002", "札幌市", "a@example.jp", "y"]], header)
    assert result.errors == []
    assert result.entries == [Entry("011002", "札幌市", ("a@example.jp",), (2,))]


# --- addresses -----------------------------------------------------------------------------


def test_several_addresses_in_one_cell_with_every_separator():
    cell = "a@example.jp, b@example.jp、c@example.jp;d@example.jp；e@example.jp f@example.jp\ng@example.jp\u3000h@example.jp"
    result = parse_rows([["011002", "札幌市", cell]])
    assert result.errors == []
    assert result.entries[0].addresses == tuple(f"{c}@example.jp" for c in "abcdefgh")


def test_addresses_over_several_rows_are_merged_in_order_and_deduplicated():
    result = parse_rows(
        [
            ["011002", "札幌市", "Taro@Example.JP, hanako@example.jp"],
            ["012025", "函館市", "x@example.jp"],
            ["011002", "北海道札幌市", "taro@example.jp; TARO@EXAMPLE.jp; jiro@example.jp"],
        ]
    )
    assert result.errors == []
    sapporo = result.entries[0]
    # Domain compared case-insensitively; the local part is kept as given (Taro ≠ taro).
    assert sapporo.addresses == (
        "Taro@example.jp",
        "hanako@example.jp",
        "taro@example.jp",
        "TARO@example.jp",
        "jiro@example.jp",
    )
    assert sapporo.rows == (2, 4)


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("taro＠example.jp", "taro@example.jp"),  # full-width @, fixed by NFKC without a word
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp"),
        ("first.last+tag@sub.example.lg.jp", "first.last+tag@sub.example.lg.jp"),
        ("o_k-1@city.example.jp", "o_k-1@city.example.jp"),
        ("x@xn--eckwd4c7c.xn--zckzah", "x@xn--eckwd4c7c.xn--zckzah"),  # punycode TLD
        ("a" * 64 + "@example.jp", "a" * 64 + "@example.jp"),
    ],
)
def test_valid_addresses(typed, stored):
    result = parse_rows([["011002", "札幌市", typed]])
    assert result.errors == []
    assert result.entries[0].addresses == (stored,)


@pytest.mark.parametrize(
    "typed, shown",
    [
        ("taro@@example.jp", "taro@@example.jp"),
        ("taro@example.jp.", "taro@example.jp."),  # trailing dot
        ("taro@example", "taro@example"),  # no TLD
        ("taro@example.123", "taro@example.123"),  # numeric TLD
        ('"taro"@example.jp', '"taro"@example.jp'),
        ("taro'@example.jp", "taro'@example.jp"),
        ("taro..jiro@example.jp", "taro..jiro@example.jp"),
        (".taro@example.jp", ".taro@example.jp"),
        ("taro.@example.jp", "taro.@example.jp"),
        ("taro@-example.jp", "taro@-example.jp"),
        ("taro@exa_mple.jp", "taro@exa_mple.jp"),
        ("taro@example..jp", "taro@example..jp"),
        ("taro@", "taro@"),
        ("@example.jp", "@example.jp"),
        ("example.jp", "example.jp"),
        ("たろう@example.jp", "たろう@example.jp"),
        ("taro@例え.jp", "taro@例え.jp"),
        ("a" * 65 + "@example.jp", "a" * 65 + "@example.jp"),
        ("a@" + "b" * 64 + ".jp", "a@" + "b" * 64 + ".jp"),  # label over 63
        ("a@" + ".".join(["b" * 60] * 5) + ".jp", "a@" + ".".join(["b" * 60] * 5) + ".jp"),  # over 254
        ("<taro@example.jp>", "<taro@example.jp>"),
        ("ｔａｒｏ＠＠example.jp", "taro@@example.jp"),  # shown after NFKC
    ],
)
def test_malformed_addresses(typed, shown):
    result = parse_rows([["011002", "札幌市", typed]])
    assert_rejected(result)
    assert len(result.errors) == 1
    problem = result.errors[0]
    assert (problem.row, problem.column) == (2, "メールアドレス")
    assert problem.message.startswith(f"メールアドレス「{shown}」の形式が正しくありません。")


def test_space_inside_an_address_splits_it_into_two_bad_ones():
    result = parse_rows([["011002", "札幌市", "taro @example.jp"]])
    assert messages(result) == [
        "2行目（メールアドレス）：メールアドレス「taro」の形式が正しくありません。「@」がありません。",
        "2行目（メールアドレス）：メールアドレス「@example.jp」の形式が正しくありません。「@」の前後に文字が必要です。",
    ]


@pytest.mark.parametrize(
    "typed, reason",
    [
        ("taro@@example.jp", "「@」が2つ以上あります。"),
        ("example.jp", "「@」がありません。"),
        ("たろう@example.jp", "全角文字や日本語は使えません。"),
        ('"taro"@example.jp', "引用符は使えません。"),
        ("a" * 65 + "@example.jp", "「@」の前が長すぎます（64 文字まで）。"),
        (
            "a" * 64 + "@" + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + ".eeeee.jp",
            "長すぎます（254 文字まで）。",
        ),  # 256 chars
        ("taro..jiro@example.jp", "「@」の前に使えない文字があるか、「.」の位置が正しくありません。"),
        ("taro@example", "「@」の後ろ（ドメイン）が正しくありません。"),
    ],
)
def test_malformed_address_reasons(typed, reason):
    result = parse_rows([["011002", "札幌市", typed]])
    assert [p.message for p in result.errors] == [f"メールアドレス「{typed}」の形式が正しくありません。{reason}"]


def test_double_at_message_in_full():
    result = parse_rows([["011002", "札幌市", "taro@@example.jp"]])
    assert messages(result) == [
        "2行目（メールアドレス）：メールアドレス「taro@@example.jp」の形式が正しくありません。「@」が2つ以上あります。"
    ]


@pytest.mark.parametrize("cell", ["", "  ", "\u3000", "、 ;"])
def test_row_without_address(cell):
    result = parse_rows([["011002", "札幌市", cell]])
    assert messages(result) == ["2行目（メールアドレス）：メールアドレスがありません。"]
    assert_rejected(result)


# --- codes and names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, name, expected",
    [
        ("11002", "札幌市", "011002"),  # CSV saved from Excel: leading zero lost
        ("10006", "北海道", "010006"),
        ("01100", "札幌市", "011002"),  # 5-digit code, check digit computed
        ("13101", "千代田区", "131016"),
        ("1100", "札幌市", "011002"),  # 5-digit code that lost its zero as a number
        ("０１１００２", "札幌市", "011002"),  # full-width digits
        (" 011002 ", "札幌市", "011002"),
        ("11002", "架空市", "110027"),  # both readings known: the name decides
    ],
)
def test_code_forms(code, name, expected):
    result = parse_rows([[code, name, "a@example.jp"]])
    assert result.errors == []
    assert [e.code for e in result.entries] == [expected]


def test_numeric_codes_in_xlsx_including_the_ambiguous_one():
    rows = [
        HEADER,
        [11002, "札幌市", "a@example.jp"],
        [11002, "架空市", "b@example.jp"],
        [1100, "札幌市", "c@example.jp"],
    ]
    result = parse(xlsx_bytes(rows), "list.xlsx")
    assert result.errors == []
    assert [(e.code, e.addresses, e.rows) for e in result.entries] == [
        ("011002", ("a@example.jp", "c@example.jp"), (2, 4)),
        ("110027", ("b@example.jp",), (3,)),
    ]


def test_xlsx_float_code_in_exponent_form():
    # Some tools write numbers as 1.1002E4; openpyxl then returns the float 11002.0.
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([HEADER, [11002, "札幌市", "a@example.jp"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<v>11002</v>" in content
                content = content.replace(b"<v>11002</v>", b"<v>1.1002E4</v>")
            target.writestr(item, content)
    result = parse(out.getvalue(), "list.xlsx")
    assert result.errors == []
    assert [e.code for e in result.entries] == ["011002"]


def test_wrong_check_digit():
    result = parse_rows([["011003", "札幌市", "a@example.jp"]])
    assert messages(result) == [
        "2行目（団体コード）：団体コード「011003」の6桁目（検査数字）が正しくありません（先頭5桁からは 011002 になります）。"
    ]
    assert_rejected(result)


@pytest.mark.parametrize(
    "code, message",
    [
        ("999997", "団体コード「999997」は全国地方公共団体コードにありません。"),  # valid check digit, unknown
        ("99999", "団体コード「99999」は全国地方公共団体コードにありません。"),
        ("01-1002", "団体コード「01-1002」は6桁の数字（全国地方公共団体コード）で入力してください。"),
        ("0110020", "団体コード「0110020」は6桁の数字（全国地方公共団体コード）で入力してください。"),
        ("札幌", "団体コード「札幌」は6桁の数字（全国地方公共団体コード）で入力してください。"),
        ("", "団体コードがありません。"),
    ],
)
def test_bad_codes(code, message):
    assert check_digit("99999") == "7"  # so 999997 passes the check digit and must be unknown
    result = parse_rows([[code, "札幌市", "a@example.jp"]])
    assert messages(result) == [f"2行目（団体コード）：{message}"]
    assert_rejected(result)


def test_name_mismatch():
    result = parse_rows([["011002", "函館市", "a@example.jp"]])
    assert messages(result) == [
        "2行目（団体名）：団体コード 011002 は「札幌市」ですが、団体名が「函館市」になっています。"
    ]
    assert_rejected(result)


@pytest.mark.parametrize("name", ["札幌市", "北海道札幌市", "北海道 札幌市", "北海道\u3000札幌市", " 札幌市 "])
def test_names_with_and_without_prefecture(name):
    result = parse_rows([["011002", name, "a@example.jp"]])
    assert result.errors == []
    assert result.entries[0].name == "札幌市"


@pytest.mark.parametrize("name", ["東京都札幌市", "札幌", "北海道", "札幌市役所", ""])
def test_names_that_do_not_match(name):
    result = parse_rows([["011002", name, "a@example.jp"]])
    assert_rejected(result)
    assert [(p.row, p.column) for p in result.errors] == [(2, "団体名")]


def test_prefecture_name():
    assert parse_rows([["130001", "東京都", "a@example.jp"]]).ok
    assert not parse_rows([["130001", "東京", "a@example.jp"]]).ok


# --- file-level problems -------------------------------------------------------------------


def test_missing_column():
    result = parse(csv_bytes([["団体コード", "団体名", "メール"], ["011002", "札幌市", "a@example.jp"]]))
    assert messages(result) == ["必須の列「メールアドレス」がありません（1行目の見出しを確認してください）。"]
    assert result.errors[0].row is None
    assert_rejected(result)


def test_every_missing_column_is_named():
    result = parse(csv_bytes([["コード", "名称", "担当部署"], ["011002", "札幌市", "x"]]))
    assert [p.column for p in result.errors] == ["団体コード", "団体名", "メールアドレス"]


def test_header_must_be_on_row_1():
    result = parse(csv_bytes([["自治体名簿"], HEADER, ["011002", "札幌市", "a@example.jp"]]))
    assert len(result.errors) == 3
    assert_rejected(result)


def test_column_given_twice():
    result = parse(csv_bytes([HEADER + ["メールアドレス"], ["011002", "札幌市", "a@example.jp", "b@example.jp"]]))
    assert messages(result) == ["列「メールアドレス」が2つ以上あります。1つにまとめてください。"]


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x81\x20",  # CP932 lead byte without a valid trail byte: fails both codecs outright
        b"\x80\xa0\xfd",  # Python's cp932 decodes these to U+0080 and private-use characters
        b"\xff\xfe\x00g\x00a\x00r\x00",  # UTF-16 (Excel's 「Unicode テキスト」)
    ],
)
def test_undecodable_bytes(garbage):
    with pytest.raises(UnicodeDecodeError):
        garbage.decode("utf-8")
    if garbage == b"\x81\x20":
        with pytest.raises(UnicodeDecodeError):
            garbage.decode("cp932")
    else:
        garbage.decode("cp932")  # no exception: only the control/private-use check catches it
    data = csv_bytes([HEADER], "cp932") + garbage + "011002,札幌市,a@example.jp\r\n".encode("cp932")
    result = parse(data)
    assert messages(result) == [UNDECODABLE]
    assert result.encoding == ""
    assert_rejected(result)


def test_utf8_bom_with_invalid_utf8_is_undecodable():
    assert messages(parse(b"\xef\xbb\xbf" + csv_bytes(HAPPY, "cp932"))) == [UNDECODABLE]


def test_corrupt_xlsx():
    result = parse(b"PK\x03\x04 not really a zip", "list.xlsx")
    assert messages(result) == ["Excel ファイル（.xlsx）として読めません。ファイルが壊れていないか確認してください。"]
    assert result.encoding == "xlsx"


def test_old_xls_is_refused():
    result = parse(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "list.xls")
    assert len(result.errors) == 1
    assert ".xls" in result.errors[0].message
    assert_rejected(result)


@pytest.mark.parametrize("data", [b"", csv_bytes([HEADER]), csv_bytes([HEADER, ["", "", ""], []])])
def test_no_data(data):
    result = parse(data)
    assert_rejected(result)
    assert len(result.errors) == 1 and result.errors[0].row is None


def test_oversize_file():
    data = csv_bytes(HAPPY)
    padding = MAX_FILE_BYTES + 1 - len(data)
    data += (b" " * 98 + b"\r\n") * (padding // 100) + b" " * (padding % 100)  # blank rows
    result = parse(data)
    assert [p.row for p in result.errors] == [None]
    assert "大きすぎます" in result.errors[0].message
    assert parse(data[:-1]).ok  # exactly 5 MB is fine


def many_rows(n):
    return [HEADER] + [["011002", "札幌市", f"u{i}@example.jp"] for i in range(n)]


def test_row_limit():
    assert parse(csv_bytes(many_rows(MAX_DATA_ROWS))).ok
    result = parse(csv_bytes(many_rows(MAX_DATA_ROWS + 1)))
    assert messages(result) == ["データが 5,000 行を超えています。ファイルを分けてください。"]
    assert_rejected(result)


def test_row_limit_ignores_blank_rows():
    rows = many_rows(MAX_DATA_ROWS)
    rows[1:1] = [["", "", ""]] * 10
    result = parse(csv_bytes(rows))
    assert result.ok
    assert result.entries[0].rows[0] == 12


def test_oversize_cells():
    result = parse_rows(
        [
            ["011002", "札幌市", "a@example.jp", "x" * 1000],
            ["012025", "函館市", "b@example.jp", "x" * 1001],
            ["010006", "北海道", "c@example.jp," * 100],  # 1,300 characters
        ],
        HEADER + ["担当部署"],
    )
    assert [(p.row, p.column) for p in result.errors] == [(3, "担当部署"), (4, "メールアドレス")]
    assert "1,001 文字" in result.errors[0].message
    assert_rejected(result)


# --- duplicates, blanks, all errors together -----------------------------------------------


def test_duplicate_row():
    result = parse_rows(
        [
            ["012025", "函館市", "x@example.jp"],
            ["011002", "札幌市", "a@example.jp, b@example.jp"],
            ["011002", "札幌市", "c@example.jp"],  # same code, other address: merged
            ["011002", "北海道札幌市", "b@EXAMPLE.JP a@Example.jp"],  # same content as row 3
        ]
    )
    assert messages(result) == ["5行目：3行目と同じ内容の行です。"]
    assert_rejected(result)


def test_same_code_different_addresses_is_not_a_duplicate():
    result = parse_rows([["011002", "札幌市", "a@example.jp"], ["011002", "札幌市", "a@example.jp b@example.jp"]])
    assert result.ok
    assert result.entries[0].addresses == ("a@example.jp", "b@example.jp")


def test_blank_rows_are_skipped_and_row_numbers_stay_right():
    rows = [
        HEADER,
        ["011002", "札幌市", "a@example.jp"],
        ["", " ", "\u3000"],
        [],
        ["012025", "函館市", "bad@"],
        ["", "", ""],
        [None, None, None],
    ]
    for data, name in ((csv_bytes([[c or "" for c in r] for r in rows]), "l.csv"), (xlsx_bytes(rows), "l.xlsx")):
        result = parse(data, name)
        assert [(p.row, p.column) for p in result.errors] == [(5, "メールアドレス")], name
    rows[4][2] = "b@example.jp"
    result = parse(xlsx_bytes(rows), "l.xlsx")
    assert [(e.code, e.rows) for e in result.entries] == [("011002", (2,)), ("012025", (5,))]


def test_quoted_cell_with_line_breaks_is_one_row():
    data = csv_bytes([HEADER, ["011002", "札幌市", "a@example.jp\r\nb@example.jp"], ["999", "x", "y"]])
    result = parse(data)
    assert [(p.row, p.column) for p in result.errors] == [(3, "団体コード"), (3, "メールアドレス")]


def test_all_errors_are_reported_together_in_row_order():
    rows = [
        HEADER,
        ["011002", "札幌市", "ok@example.jp"],
        ["011003", "札幌市", "a@example.jp"],
        ["012025", "札幌市", "taro@@example.jp, fine@example.jp, x@y"],
        [],
        ["", "", ""],
        ["999997", "どこか", ""],
        ["011002", "札幌市", "ok@example.jp"],
        ["010006", "", "c@example.jp"],
    ]
    for data, name in ((csv_bytes(rows, "cp932"), "l.csv"), (xlsx_bytes(rows), "l.xlsx")):
        result = parse(data, name)
        assert messages(result) == [
            "3行目（団体コード）：団体コード「011003」の6桁目（検査数字）が正しくありません（先頭5桁からは 011002 になります）。",
            "4行目（団体名）：団体コード 012025 は「函館市」ですが、団体名が「札幌市」になっています。",
            "4行目（メールアドレス）：メールアドレス「taro@@example.jp」の形式が正しくありません。「@」が2つ以上あります。",
            "4行目（メールアドレス）：メールアドレス「x@y」の形式が正しくありません。「@」の後ろ（ドメイン）が正しくありません。",
            "7行目（団体コード）：団体コード「999997」は全国地方公共団体コードにありません。",
            "7行目（メールアドレス）：メールアドレスがありません。",
            "8行目：2行目と同じ内容の行です。",
            "9行目（団体名）：団体名がありません。",
        ], name
        assert result.entries == []
        assert result.ok is False


# --- the result types ----------------------------------------------------------------------


def test_ok_follows_errors():
    assert AddressListResult().ok
    assert not AddressListResult(errors=[Problem(None, None, "x")]).ok
