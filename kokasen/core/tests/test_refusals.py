"""The one refusal type (kokasen/core/refusals.py, decision 0027): what it carries, the ways it is
shown, and that no app defines its own. Reading table files is tested through the address list
(accounts/tests/test_address_list.py) and the meetings' roster and survey readers."""

import ast
import io
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.test import RequestFactory

from kokasen.core import refusals
from kokasen.core.refusals import Problem, Refused


def test_problem_str():
    assert (
        str(Problem(3, "メールアドレス", "メールアドレスがありません。"))
        == "3行目（メールアドレス）：メールアドレスがありません。"
    )
    assert str(Problem(5, None, "3行目と同じ内容の行です。")) == "5行目：3行目と同じ内容の行です。"
    assert str(Problem(None, "団体名", "必須の列「団体名」がありません。")) == "必須の列「団体名」がありません。"


def test_a_refusal_carries_texts_and_problems_under_one_name():
    refused = Refused("ファイル全体の理由です。", Problem(3, "団体コード", "団体コードがありません。"))
    assert refused.messages == ["ファイル全体の理由です。", "3行目（団体コード）：団体コードがありません。"]
    assert refused.problems == [
        Problem(None, None, "ファイル全体の理由です。"),
        Problem(3, "団体コード", "団体コードがありません。"),
    ]
    assert str(refused) == "ファイル全体の理由です。\n3行目（団体コード）：団体コードがありません。"
    copy = pickle.loads(pickle.dumps(refused))
    assert copy.problems == refused.problems


def test_a_refusal_says_why_and_a_list_must_be_unpacked():
    with pytest.raises(TypeError):
        Refused()
    with pytest.raises(TypeError, match="unpack"):
        Refused(["理由1", "理由2"])


class NoteForm(forms.Form):
    note = forms.CharField()


def test_on_a_form_every_message_is_a_non_field_error():
    form = NoteForm({"note": "x"})
    assert form.is_valid()
    refusals.show_on_form(form, Refused("一つ目。", "二つ目。"))
    assert form.non_field_errors() == ["一つ目。", "二つ目。"]


def test_after_a_redirect_every_message_is_an_error_message():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    refusals.show_as_messages(request, Refused("一つ目。", "二つ目。"))
    assert [(m.message, m.tags) for m in get_messages(request)] == [("一つ目。", "error"), ("二つ目。", "error")]


def test_a_command_writes_the_lines_and_fails_with_the_summary():
    command = BaseCommand(stderr=io.StringIO())
    error = refusals.command_error(
        command, Refused(Problem(2, "団体コード", "ありません。"), "もう一つ。"), "問題が 2 件あります。"
    )
    assert isinstance(error, CommandError) and str(error) == "問題が 2 件あります。" and error.returncode == 1
    assert command.stderr._out.getvalue().splitlines() == ["2行目（団体コード）：ありません。", "もう一つ。"]
    quiet = BaseCommand(stderr=OutputWrapper(io.StringIO()))
    assert str(refusals.command_error(quiet, Refused("ひとつだけ。"))) == "ひとつだけ。"
    assert quiet.stderr._out.getvalue() == ""


def test_the_type_and_the_engines_that_raise_it_import_without_django():
    modules = "kokasen.core.refusals, kokasen.core.tables, kokasen.meetings.grouping, kokasen.meetings.exports"
    code = f"import sys; import {modules}; sys.exit('django' in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_app_defines_a_refusal_type_of_its_own():
    """One type (issue 11, item 4): the only exception class named for refusing or rejecting that
    does not derive from Refused is Refused itself. (A caller that must tell two kinds apart would
    subclass Refused; none does today.)"""
    root = Path(refusals.__file__).resolve().parents[1]
    found = []
    for path in root.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef) or not any(w in node.name for w in ("Refus", "Reject")):
                continue
            bases = [ast.unparse(base) for base in node.bases]
            if "Refused" not in bases and any(b.endswith(("Error", "Exception")) for b in bases):
                found.append(f"{path.relative_to(root)}:{node.name}")
    assert found == ["core/refusals.py:Refused"]
