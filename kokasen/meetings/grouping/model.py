"""The grouping engine's public types: what goes in (:class:`Participant`, :class:`GroupingParams`)
and what comes out (:class:`GroupingResult` with a :class:`GroupReport` per group, :class:`Violation`,
and, when there is none, :class:`kokasen.core.refusals.Refused` with the Japanese reasons)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

KIND_PREFECTURE = "prefecture"
KIND_TOWN = "town"
KINDS = (KIND_PREFECTURE, KIND_TOWN)


@dataclass(frozen=True)
class Participant:
    """One person on the roster. ``code`` is the local-government code (団体コード)."""

    id: Hashable
    code: str
    name: str
    department: str = ""
    has_center: bool | None = None
    population: int | None = None


@dataclass(frozen=True)
class GroupingParams:
    """``kind`` is "prefecture" (grouped per department) or "town" (centers mixed).

    ``max_population_ratio`` is only used by :func:`violations`: a group whose largest population is
    more than this many times its smallest is reported (None switches the check off).
    """

    kind: str = KIND_TOWN
    min_size: int = 5
    max_size: int = 7
    target_size: float | None = 6
    max_population_ratio: float | None = 3.0

    def errors(self) -> list[str]:
        errors = []
        if self.kind not in KINDS:
            errors.append(
                f"会議の種類「{self.kind}」は使えません。prefecture（都道府県）か town（町村）を指定してください。"
            )
        if not isinstance(self.min_size, int) or not isinstance(self.max_size, int) or self.min_size < 1:
            errors.append("グループの最小人数と最大人数は1以上の整数で指定してください。")
        elif self.max_size < self.min_size:
            errors.append(f"最大人数（{self.max_size}人）が最小人数（{self.min_size}人）より小さくなっています。")
        elif self.target_size is not None and not self.min_size <= self.target_size <= self.max_size:
            errors.append(
                f"目安の人数（{self.target_size}人）は最小人数と最大人数の間"
                f"（{self.min_size}〜{self.max_size}人）で指定してください。"
            )
        if self.max_population_ratio is not None and not self.max_population_ratio >= 1:
            errors.append("人口差の上限（倍率）は1以上で指定してください。")
        return errors

    @property
    def target(self) -> float:
        return self.target_size if self.target_size is not None else (self.min_size + self.max_size) / 2


@dataclass(frozen=True)
class Violation:
    """One rule a group breaks. ``rule`` is a stable code; ``message`` is Japanese for the admin."""

    rule: str  # size_below | size_above | no_mix | spread | split_local_government | mixed_departments | membership
    group: int | None  # 1-based group number, None for problems not tied to a group
    message: str


@dataclass
class GroupReport:
    number: int
    department: str
    participant_ids: tuple
    people: int
    local_governments: tuple[str, ...]  # names, in population order
    mixed: bool | None  # None for prefecture meetings
    spread: float  # max ln population - min ln population (known populations only)
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # Japanese explanations


@dataclass
class GroupingResult:
    groups: list[tuple]  # participant ids per group, numbered 1.. in this order
    reports: list[GroupReport]
    objective: float
    mixed_groups: int  # town meetings; 0 for prefecture meetings
    mixed_upper_bound: int
    mixed_maximum_proven: bool
    notes: list[str]  # Japanese, for the whole grouping

    @property
    def violations(self) -> list[Violation]:
        return [v for r in self.reports for v in r.violations]
