from __future__ import annotations

from openai_cf.services.lru import LRUCache


def test_least_recently_used_entry_goes_first() -> None:
    # Given a full cache of two whose older entry was just read
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    # When a third entry arrives
    cache.put("c", 3)
    # Then the least recently used one made room
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2


def test_entries_expire_after_their_ttl() -> None:
    # Given a cache with a 10-second TTL
    now = [0.0]
    cache: LRUCache[str, bool] = LRUCache(8, ttl_seconds=10, clock=lambda: now[0])
    cache.put("x", True)
    # When less, then more than the TTL has passed
    now[0] = 9.9
    assert cache.get("x") is True
    now[0] = 10.0
    # Then the entry is gone, and no longer counted
    assert cache.get("x") is None
    assert len(cache) == 0
