"""Problems of a table file (kokasen/core/tables.py); reading files is tested through the address
list (accounts/tests/test_address_list.py) and the meetings' roster and survey readers."""

from kokasen.core.tables import Problem


def test_problem_str():
    assert (
        str(Problem(3, "メールアドレス", "メールアドレスがありません。"))
        == "3行目（メールアドレス）：メールアドレスがありません。"
    )
    assert str(Problem(5, None, "3行目と同じ内容の行です。")) == "5行目：3行目と同じ内容の行です。"
    assert str(Problem(None, "団体名", "必須の列「団体名」がありません。")) == "必須の列「団体名」がありません。"
