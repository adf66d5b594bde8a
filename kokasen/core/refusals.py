"""A service's "no": one exception type, :class:`Refused`, and the one way each place shows it.

A service refuses by raising ``Refused`` with one or more Japanese messages for the person who
can fix the cause (the member, the staff, the operator at the command line); nothing was changed.
Readers of files (``core/tables.py`` and the readers built on it) collect row-numbered problems
(:class:`Problem`) instead and return them; the service that writes the file's content raises
``Refused(*result.errors)``. A refusal is not ``PermissionDenied``: who may do a thing is checked
apart from it, and answered 403; a refusal is shown to the person, who can do something about it.

``refused.messages`` is the one list to show: Japanese sentences, ``str(problem)`` for each
problem (「3行目（団体コード）：…」). ``refused.problems`` holds the same as :class:`Problem`
rows, for the table of a refused file.

How it is shown (docs/architecture.md, "Refusals"; decision 0027):

- a screen with a form: :func:`show_on_form` (every message a non-field error; the page answers 400);
- a POST that redirects: :func:`show_as_messages` (one ``messages.error`` per message);
- a Wagtail admin screen shown again without a form: ``refused`` in the context and
  ``{% include "admin_shared/refused.html" %}`` (with ``filename`` for a file: a table of the
  problems by row and column);
- a management command: ``raise command_error(self, refused, summary=…)`` (exit status 1).

This module imports nothing from Django at load time, so that the Django-free engines and readers
(the meetings' grouping engine and file writers, ``core/tables.py``) raise the same type; the
helpers that need Django import it when they are called.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One reason, placed in a file when it belongs to one: the row a spreadsheet shows (the
    header is row 1; None for the whole file), the column, and the Japanese message."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        column = f"（{self.column}）" if self.column else ""
        return f"{self.row}行目{column}：{self.message}"


class Refused(Exception):
    """Nothing was done, for the reasons given: Japanese texts or :class:`Problem` rows.

    ``Refused("本文を入力してください。")``, ``Refused(*result.errors)``. ``messages`` are the
    texts to show, ``problems`` the same as Problems (a text becomes ``Problem(None, None, text)``)."""

    def __init__(self, *reasons: str | Problem):
        if not reasons:
            raise TypeError("Refused needs at least one reason")
        for reason in reasons:
            if not isinstance(reason, str | Problem):
                raise TypeError(f"a reason is a str or a Problem, not {type(reason).__name__}: unpack lists with *")
        self.problems: list[Problem] = [r if isinstance(r, Problem) else Problem(None, None, r) for r in reasons]
        super().__init__(*self.problems)

    @property
    def messages(self) -> list[str]:
        return [str(problem) for problem in self.problems]

    def __str__(self) -> str:
        return "\n".join(self.messages)


def show_on_form(form, refused: Refused) -> None:
    """Every message as a non-field error of ``form`` (the page's error summary shows them)."""
    for message in refused.messages:
        form.add_error(None, message)


def show_as_messages(request, refused: Refused) -> None:
    """Every message as an error message of the next page (a POST that redirects)."""
    from django.contrib import messages

    for message in refused.messages:
        messages.error(request, message)


def command_error(command, refused: Refused, summary: str = ""):
    """The CommandError a management command raises for ``refused`` (exit status 1).

    With a ``summary`` (「….csv：問題が 2 件あります。何も取り込んでいません。…」), every message
    goes first to the command's stderr, one per line, and the error says the summary; without
    one, the error carries the messages."""
    from django.core.management.base import CommandError

    if not summary:
        return CommandError(str(refused))
    for message in refused.messages:
        command.stderr.write(message)
    return CommandError(summary)
