"""Every action the code can record in the audit trail has a Japanese label and sentence, and
the screens show entries as sentences (issue 17 item 4; decision 0053)."""

import ast
from pathlib import Path

import pytest

import kokasen
from kokasen.core import audit_actions
from kokasen.core.audit import audit_record

ROOT = Path(kokasen.__file__).parent
RECORDERS = {"audit_record", "record_attempt", "account_password_set"}  # the functions taking action=
# Codes built at run time, with every value they can take.
BUILT = {"f'tips.post_{wanted}'": {"tips.post_approved", "tips.post_rejected", "tips.post_hidden"}}


def _constants(tree) -> dict[str, set[str]]:
    """NAME = "a.b" and NAME = "a.b" if … else "c.d" anywhere in the module."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values = _literal(node.value)
            if values:
                found.setdefault(node.targets[0].id, set()).update(values)
    return found


def _literal(node) -> set[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _literal(node.body), _literal(node.orelse)
        return body | orelse if body is not None and orelse is not None else None
    return None


def _parameters(tree) -> dict[int, set[str]]:
    """For each call's line: the names of the enclosing functions' parameters (forwarded)."""
    params: dict[int, set[str]] = {}
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names = {a.arg for a in function.args.args + function.args.kwonlyargs}
            for node in ast.walk(function):
                if isinstance(node, ast.Call):
                    params.setdefault(node.lineno, set()).update(names)
    return params


def recordable_actions() -> tuple[set[str], list[str]]:
    """The codes the code can record, and what could not be worked out (file:line expression)."""
    codes, unknown = set(), []
    for path in sorted(ROOT.rglob("*.py")):
        if {"tests", "migrations", "testing", "bench"} & set(path.relative_to(ROOT).parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants, params = _constants(tree), _parameters(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in RECORDERS:
                continue
            for keyword in node.keywords:
                if keyword.arg != "action":
                    continue
                value = keyword.value
                literal = _literal(value)
                if literal is not None:
                    codes |= literal
                elif isinstance(value, ast.Name) and value.id in constants:
                    codes |= constants[value.id]
                elif isinstance(value, ast.Name) and value.id in params.get(node.lineno, set()):
                    continue  # passed on from the caller, whose own call is read
                elif ast.unparse(value) in BUILT:
                    codes |= BUILT[ast.unparse(value)]
                else:
                    unknown.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(value)}")
    return codes, unknown


def test_every_action_the_code_can_record_has_a_japanese_label_and_sentence():
    codes, unknown = recordable_actions()
    assert not unknown, f"action codes the test cannot read (add them to BUILT): {unknown}"
    assert len(codes) > 60 and "tips.post_submitted" in codes and "totp.recovery_code_used" in codes
    registered = audit_actions.registered()
    missing = sorted(codes - set(registered))
    assert not missing, f"register a Japanese label in the app's audit_actions.py: {missing}"
    for code in codes:
        action = registered[code]
        assert not action.label.isascii() and not action.sentence.isascii(), (code, action.label)
        assert action.sentence.endswith("。"), (code, action.sentence)


@pytest.mark.django_db
def test_an_entry_reads_as_a_japanese_sentence_without_codes(agency_admin, staff_client):
    from kokasen.core.models import AuditEvent
    from kokasen.tips.services import board_settings_update

    board_settings_update(acting_user=agency_admin, values={"mode": "post"}, request=None)
    event = AuditEvent.objects.get(action="tips.settings_changed")
    sentence = audit_actions.sentence(event)
    assert sentence == (
        f"「{agency_admin.username}」が小ネタの設定を変更しました。"
        "（受付の方式：事前承認（承認後に公開） → 事後確認（すぐに公開し、あとで確認））"
    )
    assert audit_actions.label("tips.post_submitted") == "小ネタの投稿"
    audit_record(action="login.failed", target_label="012025", detail={"reason": "wrong_code", "stage": "totp"})
    page = staff_client.get("/admin/ops/audit/").content.decode()
    rows = page.split("<tbody>")[1]
    assert "小ネタの設定を変更しました。（受付の方式：事前承認" in rows
    assert "「012025」のログインに失敗しました" in rows and "理由：確認コードの誤り" in rows
    for code in ("tips.settings_changed", "login.failed", "mode：", "pre →", "wrong_code"):
        assert code not in rows, code
    assert "小ネタの設定の変更" in page.split("<tbody>")[0]  # the filter's choices, by name


def test_an_old_record_of_an_unknown_action_still_reads_in_japanese():
    class Event:
        action, actor_label, target_label, detail = "gone.away", "", "", {}

    assert audit_actions.sentence(Event()) == "記録（gone.away）が記録されました。"
