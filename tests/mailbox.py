"""A real SMTP server for tests (aiosmtpd on a free port) that keeps what it receives.

`refuse` holds recipient addresses answered with a permanent 550. `stop()` and `start()` take the
server down and bring it back on the same port, as an SMTP outage would.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine
from sqlmodel import Session

from visio.clock import Clock
from visio.services import outbox
from visio.services.mail import SmtpTransport


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address.lower() in self.box.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.box.lock:
            self.box.messages.append(message)  # type: ignore[arg-type]
            self.box.peers.add(session.peer)
        return "250 Message accepted for delivery"


class Mailbox:
    """The server and the messages it accepted, in order."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self.peers: set[object] = set()  # the client ends (host, port) that delivered: connections
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


def senders_race(
    engine: Engine, box: Mailbox, clock: Clock, *, limit: int, senders: int = 2
) -> None:
    """`senders` workers, each with its own database session and SMTP connection, start together
    and pass over the outbox (`limit` notices a claim) until a pass finds nothing due; the first
    error of any of them is raised."""
    start = threading.Barrier(senders)
    errors: list[BaseException] = []

    def sender() -> None:
        transport = SmtpTransport(box.url)
        try:
            with Session(engine, expire_on_commit=False) as own:
                start.wait()
                while outbox.deliver_due(
                    db=own, transport=transport, clock=clock, limit=limit
                ).claimed:
                    pass
        except BaseException as error:  # noqa: BLE001 (raised below, in the test's thread)
            errors.append(error)
        finally:
            transport.close()

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
