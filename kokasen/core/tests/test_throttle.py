import pytest
from django.core.cache import cache

from kokasen.core.throttle import Limit


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_it_allows_up_to_the_limit_then_reports_exceeded():
    limit = Limit("test", limit=3, window=60)
    assert [limit.record("10.0.0.1") for _ in range(3)] == [1, 2, 3]
    assert limit.exceeded("10.0.0.1")
    assert not limit.exceeded("10.0.0.2")


def test_it_counts_identities_and_scopes_separately_and_can_be_cleared():
    a, b = Limit("a", limit=1, window=60), Limit("b", limit=1, window=60)
    a.record("x")
    assert a.exceeded("x") and not b.exceeded("x") and not a.exceeded("y")
    a.clear("x")
    assert not a.exceeded("x")
