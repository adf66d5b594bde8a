"""A NUL in the query string is a bad request (kokasen/core/middleware.py): found by wapiti on
the full stack, where ``/members/roundtables/?tag=%00`` answered 500 (PostgreSQL refuses text
with a NUL)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/?q=%00", "/search/?q=a%00b", "/?%00=1", "/members/roundtables/?tag=%2Fe%00"])
def test_a_nul_in_the_query_string_gets_the_400_page(member_client, path):
    response = member_client.get(path)
    assert response.status_code == 400
    assert "ページを表示できませんでした" in response.content.decode()
    assert response["Content-Security-Policy"] and response["X-Frame-Options"] == "DENY"


def test_the_text_percent_zero_zero_is_no_nul(member_client):
    assert member_client.get("/members/roundtables/?tag=%2500").status_code == 200
    assert member_client.get("/members/roundtables/?tag=abc").status_code == 200
