"""Mail delivery through the outbox to a local SMTP server, beside a bare smtplib loop.

The server is aiosmtpd on loopback, in this process (as in the tests), counting what it accepts.
The floor sends, over one smtplib connection, the very bytes of the mail the service builds (an
enrollment confirmation: text, HTML and the .ics): the SMTP exchange alone. The service goes the
whole way: `outbox.deliver_due` claims the committed notices in batches, renders each in its
recipient's language, sends it on the pass's one connection, and marks it sent.
"""

from __future__ import annotations

import smtplib
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

from aiosmtpd.controller import Controller
from sqlalchemy import func
from sqlmodel import select

from bench import data
from bench.context import Context
from bench.measure import Outcome, Row
from visio.db import make_engine, open_db
from visio.models import Notice, NoticeStatus, User
from visio.services import mail, outbox

BATCH = 50  # notices per claim, as the background loop does


class _Counter:
    def __init__(self) -> None:
        self.accepted = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        with self.lock:
            self.accepted += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _data(session_id: int) -> dict[str, object]:
    starts = datetime(2027, 3, 1, 17, 0, tzinfo=UTC)
    return {
        "session_id": session_id,
        "title": "Révision d'algèbre : équations du second degré",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "session_tz": "Europe/Paris",
        "tz": "Europe/Paris",
        "currency": "EUR",
        "sequence": 0,
        "paid_cents": 1500,
        "balance_cents": 3500,
    }


def _floor(port: int, payload: bytes, count: int) -> float:
    """Seconds for `count` sends of `payload` on one bare connection."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(count):
            smtp.sendmail("visio@localhost", [f"student{i}@example.org"], payload)
    return time.perf_counter() - started


def _service(url: str, port: int, users: list[User], count: int) -> float:
    """Seconds for the outbox to deliver `count` committed notices."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    with open_db(engine) as db:
        for i in range(count):
            outbox.enqueue(
                db, kind="enrollment_confirmed", user=users[i % len(users)], data=_data(i), at=now
            )
        db.commit()
    transport = mail.SmtpTransport(f"smtp://127.0.0.1:{port}")
    started = time.perf_counter()
    try:
        with open_db(engine) as db:
            while outbox.deliver_due(db=db, transport=transport, limit=BATCH).claimed:
                pass
    finally:
        transport.close()
    seconds = time.perf_counter() - started
    with open_db(engine) as db:
        sent = db.exec(
            select(func.count()).where(Notice.status == NoticeStatus.SENT)  # type: ignore[arg-type]
        ).one()
    engine.dispose()
    if sent != count:
        raise AssertionError(f"{sent} of {count} notices sent")
    return seconds


def _users(url: str) -> list[User]:
    found = data.populate(url, sessions=0, students=20)
    engine = make_engine(url)
    with open_db(engine) as db:
        users = list(db.exec(select(User).where(User.id.in_(found.student_ids))).all())  # type: ignore[attr-defined]
        for user in users:
            db.expunge(user)
    engine.dispose()
    return users


def _measure(ctx: Context, label: str, url: str, count: int) -> Row:
    users = _users(url)
    counter = _Counter()
    port = _free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        message = mail.build_message(
            kind="enrollment_confirmed", to="s@example.org", locale="fr", data=_data(1)
        )
        payload = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))  # SMTP's ends
        floor = count / _floor(port, payload, count)
        service = count / _service(url, port, users, count)
    finally:
        controller.stop()
    if counter.accepted != 2 * count:
        raise AssertionError(f"the server accepted {counter.accepted} of {2 * count} mails")
    ctx.log(f"  {label}: floor {floor:.0f}/s, service {service:.0f}/s")
    return Row(
        "Mail delivery",
        f"{label}: outbox mails delivered per second",
        service,
        floor,
        "/s",
        floor_label="bare smtplib loop, same bytes, one connection",
        detail=f"{count:,} mails of {len(payload):,} bytes",
    )


def run(ctx: Context) -> Outcome:
    out = Outcome()
    count = 2_000 if ctx.plan.name == "full" else 300
    ctx.log("mail delivery on SQLite ...")
    out.rows.append(_measure(ctx, "SQLite", data.new_sqlite(ctx.workdir / "mail.db"), count))
    reason = data.postgres_available()
    if reason:
        out.notes.append(f"Mail delivery on PostgreSQL skipped: {reason}")
    else:
        ctx.log("mail delivery on PostgreSQL ...")
        with data.postgres_database() as url:
            out.rows.append(_measure(ctx, "PostgreSQL", url, count))
    out.notes.append(
        "Mail delivery: no target, a measure. The floor only sends ready bytes; the service "
        "also builds each message with the standard library's `email` package (two Jinja2 "
        "templates, the MIME tree, an .ics made with `icalendar`: most of its time) and "
        "writes its rows per batch (a claim per 50, the sent marks per second). A hundred "
        "mails a second is a cancelled class of 200 told in two seconds. The SMTP server runs "
        "in the benchmark's process: both share one interpreter lock with it."
    )
    return out
