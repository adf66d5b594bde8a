"""Reading the shipped master data file (no Django imports: used by a migration too)."""

import csv
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "municipalities.csv"
SOURCE_CREDIT = (
    "出典：総務省『全国地方公共団体コード』（令和6年1月1日更新）及び総務省統計局"
    "『令和2年国勢調査 人口等基本集計』を加工して作成（政府標準利用規約（第2.0版））"
)
FIELDS = ("code", "prefecture_code", "prefecture", "name", "name_kana", "kind", "population", "area")


@dataclass(frozen=True)
class Row:
    code: str
    prefecture_code: str
    prefecture: str
    name: str
    name_kana: str
    kind: str
    population: int | None
    area: str


def read_rows(path: Path = DATA_FILE) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise ValueError(f"{path}: unexpected header {reader.fieldnames}")
        rows = []
        for record in reader:
            population = record["population"].strip()
            rows.append(
                Row(
                    code=record["code"],
                    prefecture_code=record["prefecture_code"],
                    prefecture=record["prefecture"],
                    name=record["name"],
                    name_kana=record["name_kana"],
                    kind=record["kind"],
                    population=int(population) if population else None,
                    area=record["area"],
                )
            )
    return rows


def sync(model, rows: list[Row]) -> tuple[int, int]:
    """Insert missing rows and update changed ones; returns (created, updated)."""
    existing = {obj.code: obj for obj in model.objects.all()}
    to_create, to_update = [], []
    for row in rows:
        values = {name: getattr(row, name) for name in FIELDS}
        obj = existing.get(row.code)
        if obj is None:
            to_create.append(model(**values))
        elif any(getattr(obj, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(obj, k, v)
            to_update.append(obj)
    model.objects.bulk_create(to_create, batch_size=500)
    model.objects.bulk_update(to_update, [f for f in FIELDS if f != "code"], batch_size=500)
    return len(to_create), len(to_update)
