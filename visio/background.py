"""Work the app does on its own: paying teachers once their sessions have finished, forgetting
old idempotency keys, writing the reminders that are due, delivering the outbox's notices, and
deciding the sessions whose minimum of participants is due."""

from __future__ import annotations

import asyncio
import logging

from visio.api import idempotency
from visio.clock import utcnow
from visio.db import open_db
from visio.services import (
    accounts,
    enrollments,
    mail,
    minimums,
    outbox,
    rate_limits,
    reminders,
)
from visio.settings import settings

logger = logging.getLogger(__name__)
RELEASE_EVERY_SECONDS = 60
NOTICES_PER_PASS = 50
REMINDERS_EVERY_SECONDS = 60
MINIMUMS_EVERY_SECONDS = 60


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


def deliver_due_notices() -> int:
    """Deliver every notice that is due, a batch at a time: how many were sent."""
    transport, sent = mail.configured_transport(), 0
    try:
        with open_db() as db:
            while True:
                done = outbox.deliver_due(db=db, transport=transport, limit=NOTICES_PER_PASS)
                sent += done.sent
                if done.claimed < NOTICES_PER_PASS or done.retried:
                    return sent
    finally:
        transport.close()  # one SMTP connection per pass, not one held between passes


async def deliver_notices_every_few_seconds() -> None:
    """Runs in each app worker; the outbox's claims keep two workers off the same notice."""
    while True:
        try:
            await asyncio.to_thread(deliver_due_notices)
        except Exception:  # a failed pass is retried on the next tick; never kill the loop
            logger.exception("notice delivery failed")
        await asyncio.sleep(settings.outbox_every_seconds)


def schedule_reminders() -> int:
    """Write the reminders and digests that are due (idempotent): how many were written."""
    with open_db() as db:
        return reminders.schedule_due(db)


async def schedule_reminders_every_minute() -> None:
    """Runs in each app worker; two workers write each reminder once (see `reminders`)."""
    while True:
        try:
            written = await asyncio.to_thread(schedule_reminders)
            if written:
                logger.info("%d reminder(s) or digest(s) written", written)
        except Exception:  # a failed pass is retried on the next tick; never kill the loop
            logger.exception("reminder scheduling failed")
        await asyncio.sleep(REMINDERS_EVERY_SECONDS)


def decide_minimums() -> tuple[int, int]:
    """Warn the teachers whose minimum is near, then take the decisions that are due (each
    idempotent): how many warnings were written and decisions taken."""
    with open_db() as db:
        return minimums.warn_due(db), minimums.decide_due(db)


async def decide_minimums_every_minute() -> None:
    """Runs in each app worker; a decision locks its session and re-checks (see `minimums`)."""
    while True:
        try:
            warned, decided = await asyncio.to_thread(decide_minimums)
            if warned or decided:
                logger.info("minimums: %d warning(s), %d decision(s)", warned, decided)
        except Exception:  # a failed pass is retried on the next tick; never kill the loop
            logger.exception("minimum decisions failed")
        await asyncio.sleep(MINIMUMS_EVERY_SECONDS)
