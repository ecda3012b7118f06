"""Mails: what each kind of notice says, how it is built, and how it leaves.

A kind of notice names its subject (an i18n key) and its two templates under
`visio/templates/mail/` (`<kind>.txt` and `<kind>.html`, rendered by Jinja2 in the recipient's
language; HTML autoescaped). Messages are built with the standard library's `EmailMessage`:
plain text first, HTML as the alternative. A transport sends one: `SmtpTransport` for
VISIO_SMTP_URL, else `FileTransport`, the embedded default, which writes `.eml` files.
"""

from __future__ import annotations

import functools
import logging
import secrets
import smtplib
import ssl
import sys
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlmodel import Session

from visio.i18n import LANGUAGES, t
from visio.i18n.formatting import format_money, format_when
from visio.services import ics
from visio.settings import settings

logger = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"
SMTP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class MailKind:
    """A kind of notice as a mail. `secret` names the data fields that must not outlive the
    sending (a reset token): they are wiped from the outbox row once it is sent or failed.
    `optional`: the recipient may turn its mail off (never for password, cancellation or refund);
    `default_on` is the choice of someone who never chose. `audience`: the role it is for
    ("student", "teacher", or "" for both), which decides the preferences shown.
    `in_app`: it is also listed under the bell (account mails, a reset link, are not).
    `calendar`: attach the session's event (see `ics`), built from the notice's data."""

    subject_key: str
    template: str
    secret: tuple[str, ...] = ()
    optional: bool = False
    default_on: bool = True
    audience: str = ""
    in_app: bool = True
    calendar: str | None = None  # the METHOD of the session's .ics to attach (REQUEST, CANCEL)


KINDS: dict[str, MailKind] = {
    "password_reset": MailKind(
        subject_key="mail.password_reset.subject",
        template="password_reset",
        secret=("token",),
        in_app=False,
    ),
    # A student's money and schedule (data from `student_notices`).
    "enrollment_confirmed": MailKind(
        subject_key="mail.enrollment_confirmed.subject",
        template="enrollment_confirmed",
        audience="student",
        optional=True,
        calendar="REQUEST",
    ),
    "unenrolled": MailKind(
        subject_key="mail.unenrolled.subject", template="unenrolled", audience="student"
    ),
    "session_cancelled": MailKind(
        subject_key="mail.session_cancelled.subject",
        template="session_cancelled",
        audience="student",
        calendar="CANCEL",
    ),
    "session_moved": MailKind(
        subject_key="mail.session_moved.subject",
        template="session_moved",
        audience="student",
        optional=True,
        calendar="REQUEST",
    ),
    # -- reminders, teacher notices, new material --
    # Created by the scheduler (`reminders`), before the start; data from `student_notices`.
    "reminder": MailKind(
        subject_key="mail.reminder.subject",
        template="reminder",
        audience="student",
        optional=True,
    ),
    "material_shared": MailKind(
        subject_key="mail.material_shared.subject",
        template="material_shared",
        audience="student",
        optional=True,
    ),
    # A teacher's sessions (data from `teacher_notices`).
    "new_enrollment": MailKind(
        subject_key="mail.new_enrollment.subject",
        template="new_enrollment",
        audience="teacher",
        optional=True,
    ),
    "enrollment_digest": MailKind(
        subject_key="mail.enrollment_digest.subject",
        template="enrollment_digest",
        audience="teacher",
        optional=True,
        default_on=False,
    ),
    "session_full": MailKind(
        subject_key="mail.session_full.subject",
        template="session_full",
        audience="teacher",
        optional=True,
    ),
    "payout_released": MailKind(
        subject_key="mail.payout_released.subject",
        template="payout_released",
        audience="teacher",
    ),
    # A teacher's withdrawal decided by an admin (data from `payouts`): always mailed.
    "payout_paid": MailKind(
        subject_key="mail.payout_paid.subject", template="payout_paid", audience="teacher"
    ),
    "payout_refused": MailKind(
        subject_key="mail.payout_refused.subject", template="payout_refused", audience="teacher"
    ),
    "teacher_reminder": MailKind(
        subject_key="mail.teacher_reminder.subject",
        template="teacher_reminder",
        audience="teacher",
        optional=True,
    ),
    # -- email verification, change of email, repeated registration --
    "verify_email": MailKind(
        subject_key="mail.verify_email.subject",
        template="verify_email",
        secret=("token",),
        in_app=False,
    ),
    "email_changed": MailKind(
        subject_key="mail.email_changed.subject", template="email_changed", in_app=False
    ),
    "registration_attempted": MailKind(
        subject_key="mail.registration_attempted.subject",
        template="registration_attempted",
        in_app=False,
    ),
    # -- waiting lists (data from `waitlist`, in the student notices' shape) --
    "waitlist_promoted": MailKind(  # the seat's confirmation (data from `seat_notices`)
        subject_key="mail.waitlist_promoted.subject",
        template="waitlist_promoted",
        audience="student",
        calendar="REQUEST",
    ),
    "waitlist_short": MailKind(
        subject_key="mail.waitlist_short.subject", template="waitlist_short", audience="student"
    ),
    "waitlist_closed": MailKind(
        subject_key="mail.waitlist_closed.subject", template="waitlist_closed", audience="student"
    ),
    # -- recurring series: every seat of one enrollment in one summary (data from
    # `student_notices.series_enrolled`; no .ics: one event per occurrence is on each page) --
    "series_enrolled": MailKind(
        subject_key="mail.series_enrolled.subject",
        template="series_enrolled",
        audience="student",
        optional=True,
    ),
    # -- minimum enrollment (data from `minimums`) --
    "minimum_warning": MailKind(
        subject_key="mail.minimum_warning.subject", template="minimum_warning", audience="teacher"
    ),
    "minimum_cancelled": MailKind(
        subject_key="mail.minimum_cancelled.subject",
        template="minimum_cancelled",
        audience="teacher",
    ),
    "session_confirmed": MailKind(
        subject_key="mail.session_confirmed.subject",
        template="session_confirmed",
        audience="student",
        optional=True,
    ),
}


class PermanentFailure(Exception):
    """The server refused the message for good (an SMTP 5xx): retrying would not help."""


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand the message over; raise PermanentFailure for a refusal, anything else to retry."""
        ...

    def close(self) -> None:
        """Let go of what the sends kept open (a connection)."""
        ...


def link(path: str, **query: str) -> str:
    """An absolute link into Visio (VISIO_PUBLIC_URL), for a mail."""
    return settings.public_url + path + (f"?{urlencode(query)}" if query else "")


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, its classes made once per header name: the stock one
    creates a new class with `type()` for every header set (a mail sets about 25), which
    was a tenth of building one."""

    @functools.lru_cache(maxsize=64)  # noqa: B019 (one registry, kept for the process)
    def __getitem__(self, name: str) -> type[BaseHeader]:
        return super().__getitem__(name)


class _Policy(EmailPolicy):
    """The default policy, its parsed headers kept for the values that mails repeat (the
    sender, the parts' types and encodings, the language...): a header's parse costs more than
    a line of a template, and a mail sets about 25, most of them the same as the last mail's.
    A parsed header is an immutable string: sharing one between messages is safe."""

    @functools.lru_cache(maxsize=256)  # noqa: B019 (one policy, kept for the process)
    def _parsed(self, name: str, value: str) -> tuple[str, Any]:
        return super().header_store_parse(name, value)

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if type(value) is str:
            return self._parsed(name, value)
        return super().header_store_parse(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        if hasattr(value, "name"):  # a parsed header: maybe a shared one, folded already
            return _folded(
                self.linesep, self.max_line_length, self.utf8, self.cte_type, name, id(value), value
            )
        return super().fold_binary(name, value)


# The default policy (same parsing, folding and output) with that registry and cache.
POLICY: EmailPolicy = _Policy(header_factory=_HeaderClasses())


@functools.lru_cache(maxsize=256)
def _folded(
    linesep: str,
    max_line_length: int | None,
    utf8: bool,
    cte_type: str,
    name: str,
    _id: int,
    value: Any,
) -> bytes:
    """A parsed header's bytes under a generator's settings (each flattening clones the
    policy), kept for the shared headers met again. Keyed by the object: equal strings
    parsed from different text may fold differently; the key holds the object, so its id is
    not reused while it is cached."""
    policy = POLICY.clone(
        linesep=linesep, max_line_length=max_line_length, utf8=utf8, cte_type=cte_type
    )
    return EmailPolicy.fold_binary(policy, name, value)


_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    auto_reload=False,  # shipped with the code: no stat() of the files for each mail
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def build_message(
    *,
    kind: str,
    to: str,
    locale: str,
    data: dict[str, Any],
    at: datetime | None = None,
    user_id: int | None = None,
    db: Session | None = None,
    unsubscribe_token: str | None = None,
) -> EmailMessage:
    """The mail of one notice, in the recipient's language, ready to send.

    A kind the recipient may turn off carries its one-click unsubscribe link (RFC 8058 headers,
    and a footer line) when the recipient's account is known (`user_id`, and `db` to sign it),
    or when the caller signed it already (`unsubscribe_token`: a sender does it for a batch).
    """
    spec = KINDS[kind]
    lang = locale if locale in LANGUAGES else settings.default_locale

    def tr(key: str, **params: Any) -> str:
        return t(key, lang, **params)

    def when(value: str) -> str:  # an ISO instant, in the recipient's zone (`data.tz`)
        return _when(value, lang, data.get("tz"))

    def money(cents: int) -> str:
        return _money(cents, lang, data.get("currency"))

    context = {
        "t": tr,
        "lang": lang,
        "link": link,
        "data": data,
        "app_url": settings.public_url,
        "when": when,
        "money": money,
        "unsubscribe": None,
    }
    token = unsubscribe_token if spec.optional else None
    if token is None and spec.optional and user_id is not None and db is not None:
        from visio.services import unsubscribe  # it reads KINDS: imported once both exist

        token = unsubscribe.token_for(db, user_id=user_id, kind=kind)
    if token:
        context["unsubscribe"] = {
            "one_click": link("/api/unsubscribe", token=token),
            "page": link("/unsubscribe", token=token),
            "account": link("/account"),
            "kind": tr(f"prefs.{kind}"),
        }
    message = EmailMessage(policy=POLICY)
    message["Subject"] = tr(spec.subject_key, title=data.get("title", ""))
    message["From"] = settings.mail_from
    message["To"] = to
    message["Date"] = format_datetime(at or datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=_domain(settings.mail_from))
    message["Auto-Submitted"] = "auto-generated"
    text = _env.get_template(f"{spec.template}.txt").render(context)
    if context["unsubscribe"]:
        links = context["unsubscribe"]
        message["List-Unsubscribe"] = f"<{links['one_click']}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        stop = tr("mail.unsubscribe.stop_text", kind=links["kind"], url=links["page"])
        text += f"\n{stop}\n{tr('mail.unsubscribe.manage_text', url=links['account'])}\n"
    message.set_content(text)
    message.make_alternative(boundary=_boundary())
    message.add_alternative(
        _env.get_template(f"{spec.template}.html").render(context), subtype="html"
    )
    if spec.calendar:
        message.make_mixed(boundary=_boundary())
        message.add_attachment(
            _session_ics(data, method=spec.calendar, at=at or datetime.now(UTC)),
            maintype="text",
            subtype="calendar",
            params={"method": spec.calendar},
            filename=ics.filename(data["session_id"]),
        )
    message["Content-Language"] = lang  # after the content: setting it drops Content-* headers
    return message


@functools.lru_cache(maxsize=256)
def _when(value: str, lang: str, tz: str | None) -> str:
    """`format_when` of an ISO instant, kept: both parts of a mail show it, and the mails of a
    session (its students' reminders, a cancellation) show the same one (Babel's formatting
    costs more than the rest of a template's line; its settings are fixed for the process)."""
    return format_when(datetime.fromisoformat(value), lang, tz)


@functools.lru_cache(maxsize=256)
def _money(cents: int, lang: str, currency: str | None) -> str:
    """`format_money`, kept for the same reasons as `_when` (a session's price, say)."""
    return format_money(cents, lang, currency)


def _boundary() -> str:
    """A multipart boundary in the generator's own shape (19 random digits), drawn from
    `secrets`: set before the parts are added, the generator no longer compiles a pattern to
    search the parts for the one it would draw (a text written without knowing 63 random bits
    cannot hold them)."""
    return f"{'=' * 15}{secrets.randbelow(sys.maxsize):019d}=="


def _session_ics(data: dict[str, Any], *, method: str, at: datetime) -> bytes:
    """The session's event as the notice saw it (same UID and SEQUENCE as the page's file)."""
    return _session_calendar(
        session_id=data["session_id"],
        title=data["title"],
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        timezone=data["session_tz"],
        page_url=link(f"/sessions/{data['session_id']}"),
        sequence=data["sequence"],
        stamp=at.replace(microsecond=0),  # the file has whole seconds: same bytes
        method=method,
        organizer=_address(settings.mail_from),
    )


@functools.lru_cache(maxsize=64)
def _session_calendar(
    *,
    session_id: int,
    title: str,
    starts_at: str,
    ends_at: str,
    timezone: str,
    page_url: str,
    sequence: int,
    stamp: datetime,
    method: str,
    organizer: str,
) -> bytes:
    """One event's file, kept for the next mails of the same second: a session's students
    (a cancelled class, a moved one) get the same bytes, made once."""
    return ics.session_calendar(
        session_id=session_id,
        title=title,
        starts_at=datetime.fromisoformat(starts_at),
        ends_at=datetime.fromisoformat(ends_at),
        timezone=timezone,
        page_url=page_url,
        sequence=sequence,
        stamp=stamp,
        cancelled=method == "CANCEL",
        method=method,
        organizer=organizer,
    )


def _address(sender: str) -> str:
    return sender.rsplit("<", 1)[-1].rstrip(">").strip()


def _domain(sender: str) -> str:
    return _address(sender).rsplit("@", 1)[-1] or "localhost"


class FileTransport:
    """The embedded default: each mail becomes an `.eml` file in `directory`, its subject logged."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        partial = path.with_suffix(".part")
        partial.write_bytes(bytes(message))
        partial.replace(path)  # a reader never sees half a mail
        logger.info("mail to %s written to %s: %s", message["To"], path, message["Subject"])

    def close(self) -> None:
        """Nothing is kept open between files."""


class SmtpTransport:
    """An SMTP server: `smtp://[user:pass@]host[:port]` (STARTTLS when the server offers it) or
    `smtps://` (TLS from the start). A 5xx refusal of the recipient or of the message is
    permanent; a server down, a timeout or a 4xx is for a retry.

    One connection carries the mails of a delivery pass (a handshake, TLS and login per mail
    would cost more than the mail): it is opened on the first send, reopened once if the server
    dropped it meanwhile, and closed by `close()`."""

    def __init__(self, url: str, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("VISIO_SMTP_URL must look like smtp://user:pass@host:587 or smtps://")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None
        self._lock = threading.RLock()  # one exchange at a time on the kept connection

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
        try:
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        with self._lock:
            self._send(message)

    def _send(self, message: EmailMessage) -> None:
        reused = self._smtp is not None
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:  # the server reset: the link still works
            codes = [code for code, _ in error.recipients.values()]
            if codes and all(500 <= code < 600 for code in codes):
                raise PermanentFailure(f"recipient refused: {codes}") from error
            raise
        except smtplib.SMTPDataError as error:
            if 500 <= error.smtp_code < 600:
                raise PermanentFailure(f"message refused: {error.smtp_code}") from error
            raise
        except smtplib.SMTPServerDisconnected:
            self.close()
            if not reused:
                raise
            self._send(message)  # the kept connection had gone stale: one fresh try
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """End the kept connection, if any (politely; a dead one is just dropped)."""
        with self._lock:
            smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


def configured_transport() -> Transport:
    """SMTP when VISIO_SMTP_URL is set, else `.eml` files under VISIO_MAIL_DIR."""
    if settings.smtp_url:
        return SmtpTransport(settings.smtp_url)
    return FileTransport(settings.mail_dir)
