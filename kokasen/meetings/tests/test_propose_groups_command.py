"""``manage.py propose_groups`` end to end (issue 5, item 3): a generated roster built from the real
master data, the groups workbook and the Zoom CSV read back, and refusals that write nothing."""

import csv
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from kokasen.localgov.models import LocalGovernment
from kokasen.meetings.models import CenterStatus
from kokasen.meetings.roster_file import ROSTER_HEADER

pytestmark = pytest.mark.django_db


def write_roster(path, rows, encoding="utf-8"):
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(ROSTER_HEADER)
        writer.writerows(rows)
    return path


def west_towns(count):
    return list(LocalGovernment.objects.filter(area="west", kind__in=("town", "village")).order_by("code")[:count])


def town_roster(towns, per_town=3, blank_center_for=()):
    rows = []
    for i, lg in enumerate(towns):
        center = "" if lg.code in blank_center_for else ("設置済" if i % 2 else "未設置")
        for k in range(per_town):
            rows.append(
                [lg.code, lg.name, "こども家庭課", "係長", f"試験 {i}-{k}", f"p{i}-{k}@{lg.code}.example.lg.jp", center]
            )
    return rows


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("propose_groups", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_town_roster_to_groups_workbook_and_zoom_csv(tmp_path):
    towns = west_towns(14)
    CenterStatus.objects.create(local_government=towns[0], has_center=True)  # blank in the file → the agency's list
    roster = write_roster(tmp_path / "名簿.csv", town_roster(towns, blank_center_for={towns[0].code}), encoding="cp932")
    out_xlsx, out_csv = tmp_path / "groups.xlsx", tmp_path / "zoom.csv"
    stdout, stderr = run(roster, "--meeting-kind", "town", "--out", out_xlsx, "--zoom-csv", out_csv)

    assert stderr == ""
    assert "7グループに分けました（参加者42人、14団体、1グループ5〜7人）。" in stdout
    assert "センター設置済と未設置の町村が混在するグループ：" in stdout and "人口の近さの指標" in stdout
    assert "書き出しました：" in stdout

    wb = openpyxl.load_workbook(out_xlsx)
    assert wb.sheetnames == ["グループ一覧", "メンバー", "全体の説明"]
    groups = list(wb["グループ一覧"].iter_rows(values_only=True))
    assert groups[0][0] == "グループ" and groups[0][-1] == "注意・ルール違反"
    assert [g[0] for g in groups[1:]] == [f"グループ{n}" for n in range(1, 8)]
    assert sum(g[2] for g in groups[1:]) == 42 and all(5 <= g[2] <= 7 for g in groups[1:])
    members = list(wb["メンバー"].iter_rows(values_only=True))[1:]
    assert sorted(m[1] for m in members) == list(range(1, 43))  # numbered as the import would
    by_town = {}
    for m in members:
        by_town.setdefault(m[2], set()).add(m[0])
    assert len(by_town) == 14 and all(len(g) == 1 for g in by_town.values())  # towns never split
    assert {m[9] for m in members if m[2] == towns[0].code} == {"設置済"}  # filled from CenterStatus
    notes = [r[0] for r in wb["全体の説明"].iter_rows(values_only=True)]
    assert notes[0] == "内容" and any("混在" in n for n in notes[1:])

    rows = list(csv.reader(io.StringIO(out_csv.read_text(encoding="utf-8"), newline="")))
    assert rows[0] == ["Pre-assign Room Name", "Email Address"]
    emails = [r[1] for r in rows[1:]]
    assert len(emails) == len(set(emails)) == 42
    room_of = {m[7]: m[0] for m in members}
    assert all(room_of[e] == room for room, e in rows[1:])  # room name = the group's name

    # deterministic: the same roster gives the same workbook contents
    again = tmp_path / "again.xlsx"
    run(roster, "--meeting-kind", "town", "--out", again)
    assert list(openpyxl.load_workbook(again)["メンバー"].iter_rows(values_only=True)) == list(
        wb["メンバー"].iter_rows(values_only=True)
    )


def test_prefecture_roster_is_grouped_per_department(tmp_path):
    prefectures = list(LocalGovernment.objects.filter(kind="prefecture").order_by("code")[:12])
    rows = []
    for i, lg in enumerate(prefectures):
        rows.append([lg.code, "", "母子保健担当", "主査", f"母子 {i}", f"m{i}@pref.example.lg.jp", ""])
        if i < 6:
            for k in range(2):
                rows.append(
                    ["", lg.name, "市町村支援 児童福祉司", "", f"福祉司 {i}-{k}", f"s{i}-{k}@pref.example.lg.jp", ""]
                )
    roster = tmp_path / "pref.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(list(ROSTER_HEADER))
    for r in rows:
        wb.active.append(r)
    wb.save(roster)
    out = tmp_path / "groups.xlsx"
    stdout, _ = run(roster, "--meeting-kind", "prefecture", "--out", out)
    assert "担当区分ごとに分けています（2区分：市町村支援児童福祉司、母子保健担当）。" in stdout
    groups = list(openpyxl.load_workbook(out)["グループ一覧"].iter_rows(values_only=True))
    assert "混在" not in groups[0]
    names = [g[0] for g in groups[1:]]
    assert names == [
        "グループ1（市町村支援児童福祉司）",
        "グループ2（市町村支援児童福祉司）",
        "グループ3（母子保健担当）",
        "グループ4（母子保健担当）",
    ]
    assert [g[1] for g in groups[1:]] == ["市町村支援児童福祉司"] * 2 + ["母子保健担当"] * 2


def test_a_prefecture_department_without_a_role_is_refused(tmp_path):
    roster = write_roster(
        tmp_path / "pref.csv", [["010006", "", "子ども未来課", "", "未来 一郎", "m@pref.example.lg.jp", ""]]
    )
    with pytest.raises(CommandError) as error:
        run(roster, "--meeting-kind", "prefecture", "--out", tmp_path / "groups.xlsx")
    assert "担当区分が分からない部署が1件あります（北海道「子ども未来課」）。" in str(error.value)
    assert not (tmp_path / "groups.xlsx").exists()


def test_an_impossible_roster_exits_with_a_japanese_reason_and_writes_nothing(tmp_path):
    roster = write_roster(tmp_path / "small.csv", town_roster(west_towns(2), per_town=2))
    out, zoom = tmp_path / "groups.xlsx", tmp_path / "zoom.csv"
    err = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command(
            "propose_groups",
            str(roster),
            "--meeting-kind",
            "town",
            "--out",
            str(out),
            "--zoom-csv",
            str(zoom),
            stderr=err,
        )
    assert "この名簿ではグループ分けができません。ファイルは書き出していません。" in str(error.value)
    assert "参加者は4人で、1グループの最小人数（5人）に足りません" in err.getvalue()
    assert not out.exists() and not zoom.exists()
    assert list(tmp_path.iterdir()) == [roster]  # no temporary files left either


def test_roster_errors_exit_with_row_numbers_and_write_nothing(tmp_path):
    rows = town_roster(west_towns(6))
    rows[3][5] = rows[0][5]  # a duplicate address
    rows.append(["141003", "横浜市", "", "", "試験", "y@example.lg.jp", ""])  # a city in a town meeting
    roster = write_roster(tmp_path / "bad.csv", rows)
    out = tmp_path / "groups.xlsx"
    err = io.StringIO()
    with pytest.raises(CommandError, match="名簿に問題が 2 件あります"):
        call_command("propose_groups", str(roster), "--meeting-kind", "town", "--out", str(out), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("5行目（メールアドレス）：") and "2行目と同じです" in lines[0]
    assert lines[1].startswith("20行目（団体コード）：神奈川県横浜市は政令指定都市です。")
    assert not out.exists()


def test_size_options_and_missing_files(tmp_path):
    roster = write_roster(tmp_path / "r.csv", town_roster(west_towns(4), per_town=2))
    out = tmp_path / "g.xlsx"
    stdout, _ = run(roster, "--meeting-kind", "town", "--out", out, "--min-size", "3", "--max-size", "4")
    assert "2グループに分けました（参加者8人、4団体、1グループ3〜4人）。" in stdout
    err = io.StringIO()
    with pytest.raises(CommandError, match="グループ分けができません"):
        call_command(
            "propose_groups",
            str(roster),
            "--meeting-kind",
            "town",
            "--out",
            str(tmp_path / "x.xlsx"),
            "--min-size",
            "4",
            "--max-size",
            "3",
            stderr=err,
        )
    assert "最大人数（3人）が最小人数（4人）より小さくなっています" in err.getvalue()
    with pytest.raises(CommandError, match="名簿ファイル .* を読めません"):
        run(tmp_path / "none.csv", "--meeting-kind", "town", "--out", out)
    with pytest.raises(CommandError, match="書き出し先のフォルダ .* がありません"):
        run(roster, "--meeting-kind", "town", "--out", tmp_path / "no" / "g.xlsx")
