"""The Redis cache backend (production) against the Redis server on this machine."""

import socket
import threading

import pytest

from kokasen.core.redis_cache import RedisCache

LOCATION = "redis://127.0.0.1:6379/14"


def redis_running() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not redis_running(), reason="no Redis server on 127.0.0.1:6379 (CI starts one)")


@pytest.fixture
def redis_cache():
    cache = RedisCache(LOCATION, {"KEY_PREFIX": "kokasen-test"})
    cache.clear()
    yield cache
    cache.clear()


def test_values_round_trip_and_expire_like_djangos_backend(redis_cache):
    redis_cache.set("fragment", "<header>ヘッダー</header>", 60)
    assert redis_cache.get("fragment") == "<header>ヘッダー</header>"
    assert redis_cache.add("fragment", "other", 60) is False
    assert redis_cache.add("counter", 0, 60) is True
    assert redis_cache.incr("counter") == 1
    redis_cache.set("gone", "x", 0)
    assert redis_cache.get("gone") is None


def test_one_client_is_reused_and_shared_between_threads(redis_cache):
    client = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client() is client
    errors = []

    def worker(n):
        try:
            for i in range(50):
                redis_cache.set(f"t{n}-{i}", i, 60)
                assert redis_cache.get(f"t{n}-{i}") == i
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert redis_cache.get_many([f"t{n}-49" for n in range(4)]) == {f"t{n}-49": 49 for n in range(4)}
