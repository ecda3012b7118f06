"""Counting attempts in fixed time windows: the throttling of logins and registrations.

An attempt is counted *before* the expensive work it asks for (a password hash), and the count
comes back from one atomic step, so twenty parallel requests against a limit of five give five
hashes and fifteen refusals. Two backends behind one interface: Redis when `REFLEX_REDIS_URL` is
set (every worker shares it; keys expire by themselves), else the database's `rate_counters`
table, counted with one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` in a short transaction of
its own (so a count stands whatever the caller's transaction does).

Keys are SHA-256 digests of what they count (an address, an email): neither is stored in clear.
A password-reset request (not built yet) takes a `Limit` of its own and calls `take` the same way.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Protocol

import redis
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from visio.clock import Clock, utcnow
from visio.models import RateCounter
from visio.services.errors import Throttled
from visio.settings import settings

REDIS_PREFIX = "visio:rl:"


@dataclass(frozen=True)
class Limit:
    """At most `max` attempts per `name` and key in each window of `window_minutes`."""

    name: str
    max: int
    window_minutes: int

    @property
    def window_seconds(self) -> int:
        return max(1, self.window_minutes) * 60


@dataclass(frozen=True)
class Hit:
    """One attempt counted: its window and the count it brought the key to."""

    limit: Limit
    key: str
    window_index: int
    count: int
    window_ends_at: datetime

    @property
    def over(self) -> bool:
        return self.count > self.limit.max


class Counters(Protocol):
    """Where the counts live."""

    def add(
        self, key: str, window_index: int, amount: int, *, now: datetime, expires_at: datetime
    ) -> int:
        """Add `amount` to the key's count in that window, atomically: the new count."""
        ...

    def forget(self, key: str, window_index: int) -> None:
        """Drop the key's count in that window."""
        ...

    def purge(self, now: datetime) -> int:
        """Drop the windows that have ended: how many."""
        ...


class DatabaseCounters:
    """Counts in the `rate_counters` table, each change in its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self, key: str, window_index: int, amount: int, *, now: datetime, expires_at: datetime
    ) -> int:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        table = RateCounter.__table__  # type: ignore[attr-defined]
        statement = dialect.insert(table).values(
            key=key, window_index=window_index, count=amount, expires_at=expires_at
        )
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key, table.c.window_index],
            set_={"count": table.c.count + statement.excluded.count},
        ).returning(table.c.count)
        with self.engine.begin() as conn:
            return int(conn.execute(statement).scalar_one())

    def forget(self, key: str, window_index: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(RateCounter).where(
                    RateCounter.key == key,  # type: ignore[arg-type]
                    RateCounter.window_index == window_index,  # type: ignore[arg-type]
                )
            )

    def purge(self, now: datetime) -> int:
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(RateCounter).where(RateCounter.expires_at < now)  # type: ignore[arg-type]
            )
            return int(gone.rowcount or 0)


class RedisCounters:
    """Counts in Redis: INCRBY and EXPIRE in one MULTI/EXEC; windows expire by themselves."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def _name(self, key: str, window_index: int) -> str:
        return f"{REDIS_PREFIX}{key}:{window_index}"

    def add(
        self, key: str, window_index: int, amount: int, *, now: datetime, expires_at: datetime
    ) -> int:
        name = self._name(key, window_index)
        # Relative to the caller's clock: Redis's own may differ from it (a test's frozen one).
        ttl = max(1, math.ceil((expires_at - now).total_seconds()))
        with self.client.pipeline(transaction=True) as pipe:
            pipe.incrby(name, amount)
            pipe.expire(name, ttl)
            count, _ = pipe.execute()
        return int(count)

    def forget(self, key: str, window_index: int) -> None:
        self.client.delete(self._name(key, window_index))

    def purge(self, now: datetime) -> int:
        return 0  # every key carries its expiry


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def counters(db: Session) -> Counters:
    """The configured backend: Redis at scale, else the database `db` is bound to."""
    if settings.redis_url:
        return RedisCounters(_redis(settings.redis_url))
    return DatabaseCounters(db.get_bind())  # type: ignore[arg-type]


def key_for(limit: Limit, parts: Sequence[str]) -> str:
    """The counter's key: the limit's name and a digest of what it counts."""
    digest = hashlib.sha256("\x00".join((limit.name, *parts)).encode()).hexdigest()
    return f"{limit.name}:{digest}"


def take(db: Session, *, limit: Limit, parts: Sequence[str], clock: Clock = utcnow) -> Hit | None:
    """Count one attempt against `limit` for `parts`; None when the limits are off."""
    if not settings.rate_limits_on:
        return None
    now = clock()
    seconds = limit.window_seconds
    window_index = int(now.timestamp()) // seconds
    ends_at = datetime.fromtimestamp((window_index + 1) * seconds, tz=now.tzinfo)
    key = key_for(limit, parts)
    # Kept a window longer than needed: a purge never races the window it is counting in.
    count = counters(db).add(
        key, window_index, 1, now=now, expires_at=ends_at + timedelta(seconds=seconds)
    )
    return Hit(limit=limit, key=key, window_index=window_index, count=count, window_ends_at=ends_at)


def refuse_over(hits: Iterable[Hit | None], *, clock: Clock = utcnow) -> None:
    """Throttled, with the minutes until the last of the exceeded windows ends, if any is over."""
    over = [hit for hit in hits if hit is not None and hit.over]
    if over:
        wait = max(hit.window_ends_at for hit in over) - clock()
        raise Throttled(minutes=max(1, math.ceil(wait.total_seconds() / 60)))


def take_all(
    db: Session, *, taken: Sequence[tuple[Limit, Sequence[str]]], clock: Clock = utcnow
) -> list[Hit | None]:
    """`take` each (limit, parts); Throttled if any is now over its limit (all stay counted)."""
    hits = [take(db, limit=limit, parts=parts, clock=clock) for limit, parts in taken]
    refuse_over(hits, clock=clock)
    return hits


def give_back(db: Session, hits: Iterable[Hit | None], *, clock: Clock = utcnow) -> None:
    """Uncount attempts that turned out fine (a successful login costs none of the budget)."""
    backend, now = counters(db), clock()
    for hit in hits:
        if hit is not None:
            expires_at = hit.window_ends_at + timedelta(seconds=hit.limit.window_seconds)
            backend.add(hit.key, hit.window_index, -1, now=now, expires_at=expires_at)


def reset(db: Session, hit: Hit | None) -> None:
    """Forget every attempt of the hit's key in its window."""
    if hit is not None:
        counters(db).forget(hit.key, hit.window_index)


def purge(*, db: Session, clock: Clock = utcnow) -> int:
    """Drop the counts of windows that have ended (the database backend; Redis expires them)."""
    return counters(db).purge(clock())
