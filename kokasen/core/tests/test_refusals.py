"""The one refusal type (kokasen/core/refusals.py): what it carries and the ways it is
shown. Reading table files is tested through the address list
(accounts/tests/test_address_list.py) and the meetings' roster and survey readers."""

import io
import pickle
import subprocess
import sys

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
        Problem(None, None, "ファイル全体の理由です。"), Problem(3, "団体コード", "団体コードがありません。")
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
    error = refusals.command_error(command, Refused(Problem(2, "団体コード", "ありません。"), "もう一つ。"), "問題が 2 件あります。")
    assert isinstance(error, CommandError) and str(error) == "問題が 2 件あります。" and error.returncode == 1
    assert command.stderr._out.getvalue().splitlines() == ["2行目（団体コード）：ありません。", "もう一つ。"]
    quiet = BaseCommand(stderr=OutputWrapper(io.StringIO()))
    assert str(refusals.command_error(quiet, Refused("ひとつだけ。"))) == "ひとつだけ。"
    assert quiet.stderr._out.getvalue() == ""


def test_the_type_and_the_engines_that_raise_it_import_without_django():
    modules = "kokasen.core.refusals, kokasen.core.tables, kokasen.meetings.grouping, kokasen.meetings.exports"
    code = f"import sys; import {modules}; sys.exit('django' in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)

