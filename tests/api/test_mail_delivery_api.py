"""The running app delivers its outbox on its own: every worker's background loop sends, and a
committed notice leaves exactly once. In the scale-out pass that is two workers on PostgreSQL
racing for the same rows; on the embedded default, one worker on SQLite."""

from __future__ import annotations

import email
import email.policy
import time
import uuid
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from tests.factories import make_student
from tests.server import AppServer
from visio.clock import utcnow
from visio.models import Notice, NoticeStatus
from visio.services import outbox

NOTICES = 120


def _tokens_mailed(mail_dir: Path, prefix: str) -> list[str]:
    tokens = []
    for path in mail_dir.glob("*.eml") if mail_dir.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for word in body.split():
            if f"token={prefix}" in word:
                tokens.append(word.split("token=", 1)[1])
    return tokens


def test_the_running_workers_deliver_each_committed_notice_exactly_once(
    server_db: Session, app_server: AppServer
) -> None:
    prefix = f"bulk{uuid.uuid4().hex[:8]}-"
    students = [make_student(server_db, clock=utcnow) for _ in range(6)]
    ids = [
        outbox.enqueue(
            server_db,
            kind="password_reset",
            user=students[i % len(students)],
            data={"token": f"{prefix}{i}"},
            at=utcnow(),
        ).id
        for i in range(NOTICES)
    ]
    server_db.commit()

    deadline = time.monotonic() + 90
    while True:
        server_db.rollback()
        sent = server_db.exec(
            select(func.count()).where(
                Notice.id.in_(ids),  # type: ignore[union-attr]
                Notice.status == NoticeStatus.SENT,
            )
        ).one()
        if sent == NOTICES or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    assert sent == NOTICES
    mailed = _tokens_mailed(app_server.mail_dir, prefix)
    assert sorted(mailed) == sorted(f"{prefix}{i}" for i in range(NOTICES))  # each once
