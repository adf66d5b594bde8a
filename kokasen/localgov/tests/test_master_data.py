import io

import pytest
from django.core.management import call_command

from kokasen.localgov import data
from kokasen.localgov.models import LocalGovernment

pytestmark = pytest.mark.django_db


def check_digit_ok(code: str) -> bool:
    # 全国地方公共団体コード: digits weighted 6,5,4,3,2, modulus 11; the check digit is the
    # last digit of 11 minus the remainder.
    total = sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2)))
    return (11 - total % 11) % 10 == int(code[5])


def test_all_1788_local_governments_are_loaded_by_the_migration():
    assert LocalGovernment.objects.count() == 1788
    counts = {kind: LocalGovernment.objects.filter(kind=kind).count() for kind in LocalGovernment.Kind.values}
    assert counts == {
        "prefecture": 47,
        "designated_city": 20,
        "city": 772,
        "special_ward": 23,
        "town": 743,
        "village": 183,
    }


def test_codes_are_six_digits_with_valid_check_digits():
    codes = list(LocalGovernment.objects.values_list("code", flat=True))
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert all(check_digit_ok(c) for c in codes)


def test_the_missing_census_figure_of_futaba_stays_missing():
    futaba = LocalGovernment.objects.get(code="075469")
    assert futaba.name == "双葉町" and futaba.population is None
    assert LocalGovernment.objects.filter(population__isnull=True).count() == 1
    assert not LocalGovernment.objects.filter(population=0).exists()


def test_known_census_figures_and_areas():
    assert LocalGovernment.objects.get(code="011002").population == 1973395  # 札幌市
    assert LocalGovernment.objects.get(code="141003").population == 3777491  # 横浜市
    populations = LocalGovernment.objects.exclude(kind="prefecture").values_list("population", flat=True)
    total = sum(p for p in populations if p is not None)
    assert total == 126146099
    assert LocalGovernment.objects.get(code="200000").area == "east"  # 長野県
    assert LocalGovernment.objects.get(code="220001").area == "west"  # 静岡県
    assert str(LocalGovernment.objects.get(code="012025")) == "北海道函館市"
    assert str(LocalGovernment.objects.get(code="010006")) == "北海道"


def test_the_shipped_file_carries_its_provenance():
    provenance = (data.DATA_FILE.parent / "PROVENANCE.md").read_text(encoding="utf-8")
    assert "政府標準利用規約" in provenance
    assert "政府標準利用規約" in data.SOURCE_CREDIT


def test_sync_is_idempotent_and_updates_changed_rows():
    assert data.sync(LocalGovernment, data.read_rows()) == (0, 0)
    LocalGovernment.objects.filter(code="011002").update(population=1)
    assert data.sync(LocalGovernment, data.read_rows()) == (0, 1)
    assert LocalGovernment.objects.get(code="011002").population == 1973395


def test_the_command_reports_in_japanese():
    out = io.StringIO()
    call_command("load_localgov", stdout=out)
    assert "1788 団体を確認しました（追加 0、更新 0）。" in out.getvalue()


def test_a_file_with_a_wrong_header_is_refused(tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_text("code,name\n011002,札幌市\n", encoding="utf-8")
    with pytest.raises(ValueError):
        data.read_rows(broken)
