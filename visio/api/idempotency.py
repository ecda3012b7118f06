"""Idempotency keys for the requests that move money: enroll and top up.

A client sends `Idempotency-Key: <a value of its own>`; a retry with the same key gets the first
answer (same status, same body, plus `Idempotent-Replayed: true`) and nothing runs twice. Keys
belong to the user who sent them. They live here, at the HTTP edge, because what is stored is an
HTTP answer: the use cases know nothing of them.

Two identical requests at once stay one: before running the use case, a request inserts a pending
row for (user, key) in a transaction of its own; the unique constraint makes the second insert
fail, and that request waits for the first one's answer instead of running.

- The same key for another request (another route, session or body): 409 `idempotency_conflict`.
- Only what was done is replayed. A refusal (402 `insufficient_funds`, 409 `session_full`...) did
  nothing, and the situation behind it may pass (a top-up, a freed seat): it gives the key back,
  so that a retry runs again, as does a 5xx (a busy database, a bug).
- An identical request still running after WAIT_SECONDS: 409 `idempotency_in_progress`.
- Keys are kept KEEP_FOR (a day), then pruned by the app's background task.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Header, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from visio.api.deps import json_answer
from visio.clock import utcnow
from visio.models import IdempotencyKey, User
from visio.services import locking
from visio.services.errors import Busy, Conflict

log = logging.getLogger(__name__)

KEY_MAX_LENGTH = 128
REPLAYED_HEADER = "Idempotent-Replayed"
WAIT_SECONDS = 20.0  # for an identical request still running
POLL_SECONDS = 0.05
STORE_ATTEMPTS = 5

KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=KEY_MAX_LENGTH,
        pattern=r"^[!-~]+$",  # visible ASCII: a UUID, a random token...
        description="Your unique value for this operation: a retry with the same key gets the "
        "first answer and is not charged again",
    ),
]

HEADER_DOC = {
    REPLAYED_HEADER: {
        "description": "`true` when this is the stored answer to an earlier request with the key",
        "schema": {"type": "string"},
    }
}


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: Any


_table = IdempotencyKey.__table__  # type: ignore[attr-defined]
_INSERT = insert(_table)  # a pending row: no object to build, validate and flush
# The answer on the pending row this request holds: one statement, built once.
_STORE = (
    update(_table)
    .where(
        _table.c.user_id == bindparam("holder"),
        _table.c.key == bindparam("held_key"),
        _table.c.status_code.is_(None),
    )
    .values(
        status_code=bindparam("status"),
        response_body=bindparam("body", type_=_table.c.response_body.type),
        completed_at=bindparam("done_at", type_=_table.c.completed_at.type),
    )
)


def fingerprint(scope: str, payload: Any) -> str:
    """What makes two requests the same: the operation, its target and its body."""
    canonical = json.dumps(
        {"scope": scope, "payload": payload}, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def respond(
    *,
    db: Session,
    user: User,
    key: str | None,
    scope: str,
    payload: Any,
    status_code: int,
    run: Callable[[], BaseModel],
) -> Response:
    """Run the use case once per key, and answer every request with that key the same."""
    if key is None:
        return json_answer(run(), status_code)
    user_id: int = user.id  # type: ignore[assignment]  # read now: `run` may expire `user`
    stored = _claim(db, user_id, key, scope, fingerprint(scope, payload))
    if stored is not None:
        return JSONResponse(stored.body, stored.status_code, headers={REPLAYED_HEADER: "true"})
    try:
        answer = run()
    except BaseException:  # a refusal, or a failure: nothing was done, a retry may run
        _release(db, user_id, key)
        raise
    _store(db, user_id, key, Answer(status_code, answer.model_dump(mode="json")))
    return json_answer(answer, status_code)


def _claim(db: Session, user_id: int, key: str, scope: str, digest: str) -> Answer | None:
    """None once this request holds the key; the stored answer if an identical one finished."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if _insert(db, user_id, key, scope, digest):
            return None
        row = _find(db, user_id, key)
        if row is None:  # given back meanwhile: try to take it
            continue
        if row.fingerprint != digest:
            raise Conflict("idempotency_conflict")
        if row.status_code is not None:
            return Answer(row.status_code, row.response_body)
        if time.monotonic() >= deadline:
            raise Conflict("idempotency_in_progress")
        time.sleep(POLL_SECONDS)


def _insert(db: Session, user_id: int, key: str, scope: str, digest: str) -> bool:
    """Insert the pending row in a transaction of its own; False if the key is taken."""
    db.rollback()
    row = {"user_id": user_id, "key": key, "scope": scope, "fingerprint": digest}
    try:
        with locking.busy_on_timeout():
            db.execute(_INSERT, {**row, "created_at": utcnow()})
            db.commit()
    except IntegrityError:
        db.rollback()
        return False
    except Exception:
        db.rollback()
        raise
    return True


def _find(db: Session, user_id: int, key: str) -> IdempotencyKey | None:
    db.rollback()
    return db.exec(
        select(IdempotencyKey)
        .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        .execution_options(populate_existing=True)
    ).first()


def _store(db: Session, user_id: int, key: str, answer: Answer) -> None:
    """Save the answer; retried while the database is busy, for the use case is already done."""
    params = {"holder": user_id, "held_key": key, "status": answer.status_code, "body": answer.body}
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            db.rollback()
            with locking.busy_on_timeout():
                stored = db.execute(_STORE, {**params, "done_at": utcnow()}).rowcount
                db.commit()
            if stored:
                return
            break  # pruned meanwhile: nothing to answer retries with
        except Busy:
            db.rollback()
            time.sleep(POLL_SECONDS * attempt)
    # Retries with this key will wait and get `idempotency_in_progress`: never run twice.
    log.error("idempotency key of user %s: the answer could not be stored", user_id)


def _release(db: Session, user_id: int, key: str) -> None:
    """Give a pending key back: its request ran nothing, a retry may run."""
    try:
        db.rollback()
        db.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.user_id == user_id,  # type: ignore[arg-type]
                IdempotencyKey.key == key,  # type: ignore[arg-type]
                IdempotencyKey.status_code.is_(None),  # type: ignore[union-attr]
            )
        )
        db.commit()
    except Exception:
        db.rollback()
        log.exception("idempotency key of user %s could not be given back", user_id)


KEEP_FOR = timedelta(hours=24)


def prune(db: Session, *, before: datetime) -> int:
    """Forget keys made before `before` (a pending one left by a crash included)."""
    result = db.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < before))
    db.commit()
    return int(result.rowcount or 0)
