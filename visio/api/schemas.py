"""The JSON shapes of the API, documented in /api/openapi.json.

Request bodies only parse (types, and what the database could not store at all: NUL characters,
dates out of the calendar); every rule about the values is the services'. Unknown fields are
refused, so a typo is an error rather than a silently ignored field. Money is `*_cents` plus
`currency`; times are ISO 8601 with an offset (UTC).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from visio.clock import EARLIEST_YEAR, LATEST_YEAR, in_calendar
from visio.models import (
    EffectiveStatus,
    EnrollmentStatus,
    EntryKind,
    MaterialKind,
    PayoutStatus,
    Platform,
    Role,
)


def storable_text(value: str) -> str:
    """The text, if a database can store it (no NUL, no lone surrogates); ValueError if not."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _utc_instant(value: datetime) -> datetime:
    if not in_calendar(value):
        raise ValueError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value.astimezone(UTC)


def _calendar_day(value: date) -> date:
    if not in_calendar(value):
        raise ValueError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


def _iso(pattern: str) -> Callable[[Any], Any]:
    # Pydantic would also read a number, or a string of digits, as a Unix timestamp.
    def check(value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(pattern, value):
            raise ValueError("must be an ISO 8601 date" + (" and time" if "T" in pattern else ""))
        if not isinstance(value, str | date):
            raise ValueError("must be an ISO 8601 string")
        return value

    return check


Text = Annotated[str, AfterValidator(storable_text)]
Instant = Annotated[  # a naive time is refused
    AwareDatetime, BeforeValidator(_iso(r"\d{4}-\d{2}-\d{2}[Tt ].+")), AfterValidator(_utc_instant)
]
Day = Annotated[date, BeforeValidator(_iso(r"\d{4}-\d{2}-\d{2}")), AfterValidator(_calendar_day)]
Integer = StrictInt  # 5, not "5" nor 5.0
Boolean = StrictBool  # true, not "true" nor 1


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _one_start(values: Any) -> Any:
    """`date` and `starts_at` name the same field: a body may send one of them, not both."""
    if isinstance(values, dict) and "date" in values and "starts_at" in values:
        raise ValueError("send the start as `starts_at` or `date`, not both")
    return values


# --- errors ---------------------------------------------------------------------------------


class ErrorOut(BaseModel):
    """Every error: a message in the caller's language and a stable code."""

    detail: str | list[dict[str, Any]] = Field(
        description="The message; for a request that does not parse, the list of problems"
    )
    code: str = Field(description="Stable, machine-readable: `session_full`, `not_owner`...")
    field: str | None = Field(default=None, description="The input field the error is about")


# --- accounts -------------------------------------------------------------------------------


class RegisterIn(Body):
    email: Text
    password: Text
    full_name: Text
    role: Literal[Role.TEACHER, Role.STUDENT]  # admins are made by an operator, never here


class LoginIn(Body):
    email: Text
    password: Text


class PasswordResetIn(Body):
    email: Text


class PasswordResetOut(BaseModel):
    """The same answer whether the email has an account or not."""

    detail: str


class PasswordResetConfirmIn(Body):
    token: Annotated[str, Field(max_length=200)]
    password: Text


class UserOut(BaseModel):
    id: int
    email: str
    full_name: str
    role: Role
    created_at: datetime
    email_verified: bool = Field(description="The owner opened the link mailed to the address")


class RegisteredOut(BaseModel):
    """The same answer whether the email was new or already had an account: log in next."""

    email: str
    full_name: str
    role: Literal[Role.TEACHER, Role.STUDENT]


class LoginOut(BaseModel):
    token: str = Field(description="Send it as `Authorization: Bearer <token>`")
    token_type: Literal["bearer"] = "bearer"
    user: UserOut


# --- sessions -------------------------------------------------------------------------------


class SessionIn(Body):
    """A new session (always created as a draft)."""

    _one_start = model_validator(mode="before")(_one_start)

    title: Text
    description: Text = ""
    starts_at: Instant = Field(
        validation_alias=AliasChoices("starts_at", "date"),
        description="The start, ISO 8601 with an offset, e.g. 2026-05-04T18:00+02:00; "
        "`date` (the answers' name) is accepted too",
    )
    duration: Integer = Field(description="Minutes")
    timezone: Text | None = Field(
        default=None, description="IANA zone, e.g. Europe/Paris; default: the account's"
    )
    platform: Platform = Platform.JITSI
    link: Text | None = Field(
        default=None, description="https meeting link for zoom, teams or custom (jitsi: generated)"
    )
    is_paid: Boolean = False
    price_cents: Integer = 0
    capacity: Integer | None = Field(default=None, description="null: unlimited")
    enrollment_deadline: Instant | None = Field(default=None, description="null: the start")
    tags: list[Text] = Field(default_factory=list)
    min_participants: Integer | None = Field(
        default=None,
        description="null: no minimum. Not reached by `decide_at`: cancelled and refunded",
    )
    decide_at: Instant | None = Field(
        default=None, description="When the minimum is decided; null: 24 hours before the start"
    )


class SessionPatchIn(Body):
    """The fields to change; the others keep their values."""

    _one_start = model_validator(mode="before")(_one_start)

    title: Text = Field(default=None)  # type: ignore[assignment]
    description: Text = Field(default=None)  # type: ignore[assignment]
    starts_at: Instant = Field(  # type: ignore[assignment]
        default=None,
        validation_alias=AliasChoices("starts_at", "date"),
        description="`date` is accepted too",
    )
    duration: Integer = Field(default=None, description="Minutes")  # type: ignore[assignment]
    timezone: Text = Field(default=None)  # type: ignore[assignment]
    platform: Platform = Field(default=None)  # type: ignore[assignment]
    link: Text | None = None
    is_paid: Boolean = Field(default=None)  # type: ignore[assignment]
    price_cents: Integer = Field(default=None)  # type: ignore[assignment]
    capacity: Integer | None = Field(default=None, description="null: unlimited")
    enrollment_deadline: Instant | None = Field(default=None, description="null: the start")
    tags: list[Text] = Field(default=None)  # type: ignore[assignment]
    min_participants: Integer | None = Field(default=None, description="null: no minimum")
    decide_at: Instant | None = Field(default=None, description="null: 24 hours before the start")


class SessionOut(BaseModel):
    id: int
    title: str
    description: str
    date: datetime = Field(description="The start")
    duration: int = Field(description="Minutes")
    timezone: str
    platform: Platform
    link: str | None = Field(
        description="Only for the session's teacher, else null: students get it from POST "
        "/api/sessions/{id}/join, inside the join window"
    )
    teacher_id: int
    teacher_name: str
    status: EffectiveStatus
    is_paid: bool
    price_cents: int
    currency: str
    capacity: int | None
    enrolled_count: int
    enrollment_deadline: datetime | None = Field(description="null: enrollment closes at the start")
    tags: list[str]
    materials_count: int
    created_at: datetime
    min_participants: int | None = Field(
        None, description="The minimum of participants, or null: none"
    )
    decide_at: datetime | None = Field(
        None, description="When the minimum is decided (cancelled with refunds if not reached)"
    )
    confirmed: bool = Field(
        False, description="The minimum is reached (or was, at the decision): it takes place"
    )
    moved_from: datetime | None = Field(
        None,
        description="For an enrolled student whose session moved since they enrolled: the start "
        "first announced. They may then unenroll with a full refund until `date`",
    )


class SessionPageOut(BaseModel):
    items: list[SessionOut]
    total: int = Field(description="Matching sessions; at most 1000 for scope=available")
    total_capped: bool = Field(
        False, description="true: counting stopped at `total`, more match (later pages still list)"
    )
    page: int
    page_size: int


class CancelIn(Body):
    reason: Text


class CancelOut(BaseModel):
    session: SessionOut
    refunded_count: int
    refunded_cents: int
    currency: str


# --- enrollment -----------------------------------------------------------------------------


class EnrollmentOut(BaseModel):
    id: int
    session_id: int
    student_id: int
    status: EnrollmentStatus
    enrolled_at: datetime
    ended_at: datetime | None


class EnrollOut(BaseModel):
    enrollment: EnrollmentOut
    paid_cents: int
    wallet_balance_cents: int
    currency: str


class UnenrollOut(BaseModel):
    enrollment: EnrollmentOut
    refunded_cents: int
    wallet_balance_cents: int
    currency: str


class JoinOut(BaseModel):
    url: str = Field(description="The platform link; the join is recorded as attendance")


# --- materials ------------------------------------------------------------------------------


class LinkIn(Body):
    kind: Literal["link"]
    title: Text
    url: Text


class MaterialOut(BaseModel):
    id: int
    session_id: int
    kind: MaterialKind
    title: str
    url: str | None = Field(description="Links only")
    filename: str | None = Field(description="Files only")
    content_type: str | None = Field(description="Files only")
    size_bytes: int | None = Field(description="Files only")
    created_at: datetime


class MaterialListOut(BaseModel):
    items: list[MaterialOut]


# --- wallet ---------------------------------------------------------------------------------


class TransactionOut(BaseModel):
    id: int
    kind: EntryKind
    amount_cents: int = Field(description="Positive: credit; negative: debit")
    currency: str
    created_at: datetime
    session_id: int | None
    session_title: str | None
    reference: str | None


class WalletOut(BaseModel):
    balance_cents: int
    currency: str
    transactions: list[TransactionOut] = Field(description="Newest first")
    total: int
    page: int
    page_size: int


class TopUpIn(Body):
    amount_cents: Integer


class TopUpOut(BaseModel):
    transaction: TransactionOut
    balance_cents: int
    currency: str


class PayoutIn(Body):
    amount_cents: Integer
    destination: Text = Field(description="An IBAN (spaces allowed) or another payout reference")
    destination_kind: Literal["iban", "reference"] | None = Field(
        default=None,
        description="Which `destination` is; left out, what looks like an IBAN is checked as one",
    )


class PayoutOut(BaseModel):
    id: int
    amount_cents: int
    currency: str
    destination: str = Field(description="Masked to its last 4 characters, except for admins")
    status: PayoutStatus
    reference: str | None = Field(description="The admin's payment reference, once paid")
    refusal_reason: str | None
    created_at: datetime
    decided_at: datetime | None


class AdminPayoutOut(PayoutOut):
    user_id: int
    user_name: str
    user_email: str


class PayoutPageOut(BaseModel):
    items: list[PayoutOut] = Field(description="Newest first")
    total: int
    page: int
    page_size: int


class AdminPayoutPageOut(BaseModel):
    items: list[AdminPayoutOut] = Field(
        description="Waiting requests first (oldest first), then decided ones (latest first)"
    )
    total: int
    page: int
    page_size: int
    requested_count: int = Field(description="Requests waiting for a decision, all of them")


class PayoutPaidIn(Body):
    reference: Text


class PayoutRefuseIn(Body):
    reason: Text


# --- notifications (in the app) -------------------------------------------------------------

NoticeId = Annotated[StrictInt, Field(ge=1, le=2**31 - 1)]


class NotificationOut(BaseModel):
    id: int
    kind: str = Field(description="`enrollment_confirmed`, `session_cancelled`...")
    title: str = Field(description="In the caller's language")
    detail: str = Field(description="One more line (a date, an amount, a reason), or empty")
    created_at: datetime
    read: bool
    session_id: int | None
    path: str | None = Field(description="The page it is about in Visio (relative), if any")


class NotificationPageOut(BaseModel):
    items: list[NotificationOut] = Field(description="Newest first")
    total: int
    page: int
    page_size: int
    unread_count: int


class MarkReadIn(Body):
    """`{"ids": [...]}` marks those of the caller's notices read (others' ids are ignored);
    `{"all": true}` marks every one."""

    ids: list[NoticeId] | None = None
    all: Literal[True] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> MarkReadIn:
        if (self.ids is None) == (self.all is None):
            raise ValueError("send either `ids` or `all: true`")
        return self


class MarkReadOut(BaseModel):
    unread_count: int


# --- statistics -----------------------------------------------------------------------------


class StatusCountsOut(BaseModel):
    draft: int
    scheduled: int
    ongoing: int
    finished: int
    cancelled: int


class FillOut(BaseModel):
    enrolled: int = Field(description="Active enrollments in published sessions with a capacity")
    seats: int
    rate: float | None = Field(description="enrolled / seats; null when there are no seats")


class AttendanceOut(BaseModel):
    attended: int = Field(description="Enrolled students of finished sessions who joined")
    enrolled: int
    rate: float | None = Field(description="attended / enrolled; null when nobody was enrolled")


class SeriesFillOut(BaseModel):
    series: int = Field(description="Recurring series with at least one published occurrence")
    enrolled: int = Field(description="Active enrollments in their occurrences with a capacity")
    seats: int
    rate: float | None = Field(description="enrolled / seats; null when there are no seats")


class RevenueOut(BaseModel):
    held_cents: int = Field(description="In escrow until the sessions end")
    released_cents: int = Field(description="Paid out to the teacher")
    refunded_cents: int
    currency: str


class UpcomingOut(BaseModel):
    session_id: int
    title: str
    date: datetime
    enrolled_count: int
    capacity: int | None


class WeekOut(BaseModel):
    start: date = Field(description="Monday of the week, in the requested zone")
    enrollments: int


class MonthOut(BaseModel):
    start: date
    revenue_cents: int


class OverviewOut(BaseModel):
    counts: StatusCountsOut = Field(description="The teacher's sessions by effective status")
    total_sessions: int
    active_enrollments: int
    fill: FillOut
    attendance: AttendanceOut
    revenue: RevenueOut
    upcoming: list[UpcomingOut]
    enrollments_by_week: list[WeekOut]
    revenue_by_month: list[MonthOut]
    auto_cancelled: int = Field(
        0, description="Sessions cancelled automatically: their minimum of participants not reached"
    )
    waiting: int = Field(
        0, description="Students in the open waiting lists of the teacher's sessions"
    )
    series_fill: SeriesFillOut = Field(
        description="How full the occurrences of the teacher's recurring series are"
    )


# --- recurring series -----------------------------------------------------------------------


class RepeatIn(Body):
    """How a series repeats: every `every_days` days (7: weekly), `count` times or until a day."""

    every_days: Integer = 7
    count: Integer | None = Field(default=None, description="Occurrences (at most 52)")
    until: Day | None = Field(
        default=None, description="The last day an occurrence may fall on, in the session's zone"
    )


class SeriesIn(SessionIn):
    """The first occurrence's fields, how it repeats, and whether to publish them at once."""

    repeat: RepeatIn
    publish: Boolean = False


class OccurrenceOut(SessionOut):
    holds_seat: bool = Field(description="The caller holds a seat in this occurrence")


class SeriesOut(BaseModel):
    id: int
    teacher_id: int
    every_days: int
    created_at: datetime
    occurrences: list[OccurrenceOut]
    seats_held: int
    remaining_count: int = Field(description="Occurrences the caller could still enroll in")
    remaining_price_cents: int
    currency: str


class SeriesEnrollOut(BaseModel):
    enrollments: list[EnrollmentOut]
    paid_cents: int
    wallet_balance_cents: int
    currency: str


class SeriesCancelIn(Body):
    reason: Text
    from_session_id: Integer | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="Cancel from this occurrence on; default: every one to come",
    )


class SeriesCancelOut(BaseModel):
    cancelled: list[SessionOut]
    refunded_count: int
    refunded_cents: int
    currency: str
