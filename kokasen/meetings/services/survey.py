"""Storing an imported survey (kokasen/meetings/survey_file.py reads it): all or nothing, audited.

An import replaces every SurveyResponse of the meeting for that half (上半期 or 下半期), so a
corrected file is simply imported again. ``answers`` is stored as a list of [heading, answer]
pairs: PostgreSQL's jsonb does not keep the key order of an object, and the report lists the
questions in the file's order. Each heading is stored with a [自由記述] / [選択] marker for the
kind decided at import (the report reads it with survey_file.question_of).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from kokasen.accounts import access
from kokasen.core.audit import audit_record
from kokasen.core.refusals import Refused
from kokasen.localgov.models import LocalGovernment

from .. import survey_file
from ..models import Half, Meeting, SurveyResponse


@dataclass(frozen=True)
class SurveyImported:
    half: str
    responses: int
    replaced: int
    questions: list[tuple[str, str]]  # (question, "選択式" / "自由記述")
    notices: list[str]


KIND_LABELS = {survey_file.CHOICE: "選択式", survey_file.TEXT: "自由記述"}


def _master() -> tuple[dict[str, str], dict[str, str]]:
    known, prefecture_of = {}, {}
    for code, name, prefecture in LocalGovernment.objects.values_list("code", "name", "prefecture"):
        known[code] = name
        prefecture_of[code] = prefecture
    return known, prefecture_of


def survey_read(*, data: bytes, filename: str) -> survey_file.SurveyResult:
    known, prefecture_of = _master()
    return survey_file.parse_survey(data, filename, known=known, prefecture_of=prefecture_of)


def survey_import(
    *, meeting: Meeting, half: str, data: bytes, filename: str, acting_user, request=None
) -> SurveyImported:
    """Replace the meeting's survey answers for ``half`` with the file's. Refused (the file's
    problems): nothing changed."""
    access.require(acting_user, access.STAFF)
    if half not in Half.values:
        raise Refused("上半期か下半期かを選んでください。")
    result = survey_read(data=data, filename=filename)
    if not result.ok:
        raise Refused(*result.errors)
    kinds = result.kinds()
    headings = [_heading(q, k) for q, k in zip(result.questions, kinds, strict=True)]
    codes = {r.code for r in result.responses if r.code}
    lg_ids = dict(LocalGovernment.objects.filter(code__in=codes).values_list("code", "pk"))
    now = timezone.now()
    with transaction.atomic():
        replaced, _ = SurveyResponse.objects.filter(meeting=meeting, half=half).delete()
        SurveyResponse.objects.bulk_create(
            SurveyResponse(
                meeting=meeting,
                half=half,
                row_number=r.row,
                local_government_id=lg_ids.get(r.code) if r.code else None,
                answers=[[h, a] for h, a in zip(headings, r.answers, strict=True)],
                imported_at=now,
            )
            for r in result.responses
        )
        audit_record(
            action="meetings.survey_imported",
            acting_user=acting_user,
            target=meeting,
            detail={
                "half": half,
                "filename": filename[:200],
                "encoding": result.encoding,
                "responses": len(result.responses),
                "replaced": replaced,
                "questions": len(headings),
                "ignored_columns": [i.heading for i in result.ignored],
            },
            request=request,
        )
    return SurveyImported(
        half=half,
        responses=len(result.responses),
        replaced=replaced,
        questions=[(q.text, KIND_LABELS[k]) for q, k in zip(result.questions, kinds, strict=True)],
        notices=result.notices,
    )


def survey_delete(*, meeting: Meeting, half: str, acting_user, request=None) -> int:
    """Remove the meeting's survey answers for ``half`` (audited); returns how many."""
    access.require(acting_user, access.STAFF)
    with transaction.atomic():
        deleted, _ = SurveyResponse.objects.filter(meeting=meeting, half=half).delete()
        audit_record(
            action="meetings.survey_deleted",
            acting_user=acting_user,
            target=meeting,
            detail={"half": half, "responses": deleted},
            request=request,
        )
    return deleted


def _heading(question: survey_file.Question, kind: str) -> str:
    """The heading to store: the question with the kind decided now, so the report treats
    it exactly as the import screen said."""
    return f"{question.text} {survey_file.MARK_TEXT if kind == survey_file.TEXT else survey_file.MARK_CHOICE}"
