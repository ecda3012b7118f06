"""Work the app does on its own: paying teachers once their sessions have finished, and
forgetting old idempotency keys."""

from __future__ import annotations

import asyncio
import logging

from visio.api import idempotency
from visio.clock import utcnow
from visio.db import open_db
from visio.services import accounts, enrollments, rate_limits

logger = logging.getLogger(__name__)
RELEASE_EVERY_SECONDS = 60


def release_due_escrow() -> int:
    """One pass: release the held payments of every finished session (idempotent)."""
    released = 0
    with open_db() as db:
        while True:
            done = enrollments.release_escrow(db=db)
            released += done
            if done == 0:
                return released


def prune_idempotency_keys() -> int:
    """Forget the API's idempotency keys once they are a day old."""
    with open_db() as db:
        return idempotency.prune(db, before=utcnow() - idempotency.KEEP_FOR)


def prune_throttling_records() -> int:
    """Forget ended throttling windows and the login addresses not seen for a long time."""
    with open_db() as db:
        return rate_limits.purge(db=db) + accounts.forget_old_addresses(db=db)


async def release_escrow_every_minute() -> None:
    """Runs in each app worker; overlapping workers are safe, the release locks and re-checks."""
    while True:
        try:
            released = await asyncio.to_thread(release_due_escrow)
            if released:
                logger.info("escrow released for %d finished session(s)", released)
            await asyncio.to_thread(prune_idempotency_keys)
            await asyncio.to_thread(prune_throttling_records)
        except Exception:  # a failed pass is retried on the next tick; never kill the loop
            logger.exception("escrow release failed")
        await asyncio.sleep(RELEASE_EVERY_SECONDS)
