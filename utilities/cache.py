"""A Redis cache that fails open: with Redis unreachable, or full, reads miss and writes are dropped.

The cache only holds things that can be recomputed (throttle counters, cached
pages), so a dead Redis must slow the app down, never turn a request into a
500. Each failure is logged; the short socket timeouts in settings bound the wait.
Full: Redis runs with `maxmemory` and evicts only keys with a time to live (coalition.embedded); when what it
holds without one (the broker's backlog) reaches the bound, it refuses every write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError, OutOfMemoryError)
T = TypeVar("T")


class FailOpenRedisCache(RedisCache):
    def _fail_open(self, operation: str, call: Callable[[], T], fallback: T) -> T:
        try:
            return call()
        except UNAVAILABLE as error:
            logger.warning("cache %s skipped, Redis unavailable or full: %s", operation, error)
            return fallback

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None, **kw: Any) -> bool:
        args = (key, value, timeout)
        return self._fail_open("add", lambda: super(FailOpenRedisCache, self).add(*args, version=version), False)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._fail_open("get", lambda: super(FailOpenRedisCache, self).get(key, default, version), default)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None, **kw: Any) -> None:
        args = (key, value, timeout)
        self._fail_open("set", lambda: super(FailOpenRedisCache, self).set(*args, version=version), None)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        args = (key, timeout)
        return self._fail_open("touch", lambda: super(FailOpenRedisCache, self).touch(*args, version=version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._fail_open("delete", lambda: super(FailOpenRedisCache, self).delete(key, version), False)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._fail_open("get_many", lambda: super(FailOpenRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._fail_open("has_key", lambda: super(FailOpenRedisCache, self).has_key(key, version), False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self._fail_open("incr", lambda: super(FailOpenRedisCache, self).incr(key, delta, version), delta)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:
        args = (data, timeout)
        return self._fail_open("set_many", lambda: super(FailOpenRedisCache, self).set_many(*args, version=version),
                               [])

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._fail_open("delete_many", lambda: super(FailOpenRedisCache, self).delete_many(keys, version), None)

    def clear(self) -> None:  # type: ignore[override]  # RedisCache.clear returns the server's answer
        self._fail_open("clear", lambda: bool(super(FailOpenRedisCache, self).clear()), False)
