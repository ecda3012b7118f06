"""Video sessions and what hangs off them: tags, enrollments, materials, attendance."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, UniqueConstraint, desc, text
from sqlmodel import Field, SQLModel

from visio.clock import utcnow
from visio.models.types import UTCDateTime
from visio.search_text import folded_sql


class Platform(StrEnum):
    JITSI = "jitsi"
    ZOOM = "zoom"
    TEAMS = "teams"
    CUSTOM = "custom"


class StoredStatus(StrEnum):
    """What is stored; `ongoing` and `finished` are derived from the clock."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class EffectiveStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    ONGOING = "ongoing"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class VideoSession(SQLModel, table=True):
    """A live class. The platform link is private: owner and enrolled students only."""

    __tablename__ = "video_sessions"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'scheduled', 'cancelled')", name="status_known"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("enrolled_count >= 0", name="enrolled_not_negative"),
        Index("ix_video_sessions_teacher_starts", "teacher_id", "starts_at"),
        Index("ix_video_sessions_status_starts", "status", "starts_at"),
        # The background decision finds the sessions whose minimum is due, without a scan.
        Index("ix_video_sessions_decide", "decided_at", "decide_at"),
        # The open catalog's pages and count read from this index alone, in order (0014). SQLite
        # only: on PostgreSQL, enrolled_count in an index would stop the HOT update of every seat
        # claim, and its planner reads the table well enough.
        Index(
            "ix_video_sessions_open",
            "status",
            "starts_at",
            "id",
            "enrollment_deadline",
            "capacity",
            "enrolled_count",
        ).ddl_if(dialect="sqlite"),
        # The open catalog sorted by price, on both databases: walked in that order, a page stops
        # after its rows instead of sorting every open session (0015). A price does not change
        # with a seat claim: PostgreSQL's updates of a seat stay HOT.
        Index("ix_video_sessions_price", "status", "price_cents", "starts_at", "id"),
        # SQLite walks an index one way: the highest price first, ties still soonest first, needs
        # its own (PostgreSQL sorts each price's ties as it reads them backwards).
        Index(
            "ix_video_sessions_price_desc", "status", desc("price_cents"), "starts_at", "id"
        ).ddl_if(dialect="sqlite"),
        # ...and by popularity, on SQLite only (enrolled_count: the reason given above); with
        # the rest of "open to enroll", as ix_video_sessions_open has it.
        Index(
            "ix_video_sessions_popular",
            "status",
            desc("enrolled_count"),
            "starts_at",
            "id",
            "enrollment_deadline",
            "capacity",
        ).ddl_if(dialect="sqlite"),
        # Every column a teacher's figures read of their sessions (stats: the sums by status and
        # series, who attended), so that the dashboard reads this index alone, in the teacher's
        # range (0017). SQLite only: enrolled_count, as above.
        Index(
            "ix_video_sessions_teacher_figures",
            "teacher_id",
            "status",
            "starts_at",
            "ends_at",
            "series_id",
            "capacity",
            "enrolled_count",
            "enrollment_deadline",
            "decided_at",
            "cancelled_at",
        ).ddl_if(dialect="sqlite"),
        # A teacher's list by title, walked in that order on PostgreSQL: the title folded as the
        # listing sorts it (0016). SQLite folds with a function of the app's own (visio_fold),
        # which an index could only hold if every connection to the file registered it.
        Index(
            "ix_video_sessions_teacher_title", "teacher_id", text(folded_sql("title")), "id"
        ).ddl_if(dialect="postgresql"),
    )

    id: int | None = Field(default=None, primary_key=True)
    teacher_id: int = Field(foreign_key="users.id")
    # An occurrence of a recurring series (None: a one-off session). No foreign key in the
    # database: SQLite cannot add or drop one on this table without copying it (and its search
    # triggers); the series services are the only writers.
    series_id: int | None = Field(default=None, index=True)
    title: str = Field(max_length=120)
    description: str = Field(default="", max_length=5000)
    starts_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    duration_minutes: int
    timezone: str = Field(max_length=64)
    platform: str = Field(default=Platform.JITSI, max_length=16)
    link: str = Field(max_length=2048)
    status: str = Field(default=StoredStatus.DRAFT, max_length=16)
    is_paid: bool = Field(default=False)
    price_cents: int = Field(default=0)
    currency: str = Field(max_length=3)
    capacity: int | None = Field(default=None)
    enrollment_deadline: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # Active enrollments, kept in the same transaction as the seat claims: browsing reads it.
    enrolled_count: int = Field(default=0)
    cancel_reason: str | None = Field(default=None, max_length=500)
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    escrow_released_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The schedule its students were promised: set at publication, and followed by time edits
    # only while nobody is enrolled. Moves are bounded by it, escrow waits for its end.
    planned_starts_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    planned_ends_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The last change of start or duration made with students enrolled: from then until the
    # start, each of them may unenroll with a full refund whatever the deadline.
    rescheduled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # Minimum enrollment: unless `min_participants` students hold a seat by `decide_at`, the
    # session is cancelled (refunded) by the background work; `decided_at` records that the
    # decision was taken (kept or cancelled), so it is taken once.
    min_participants: int | None = Field(default=None)
    decide_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Tag(SQLModel, table=True):
    """A label, stored lower-cased once and shared by sessions."""

    __tablename__ = "tags"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=30, unique=True, index=True)


class SessionTag(SQLModel, table=True):
    __tablename__ = "session_tags"

    session_id: int = Field(foreign_key="video_sessions.id", primary_key=True, ondelete="CASCADE")
    tag_id: int = Field(foreign_key="tags.id", primary_key=True, index=True)


class Series(SQLModel, table=True):
    """A recurring class: its occurrences are ordinary sessions pointing at it (`series_id`),
    every `every_days` days at the same local time in the session's zone."""

    __tablename__ = "series"

    id: int | None = Field(default=None, primary_key=True)
    teacher_id: int = Field(foreign_key="users.id", index=True)
    every_days: int
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    PROMOTED = "promoted"  # given a seat
    LEFT = "left"  # the student left the line
    CLOSED = "closed"  # the session was cancelled or its enrollment closed


class WaitlistEntry(SQLModel, table=True):
    """A student's place in a full session's waiting line: one row per pair, the order is
    `joined_at` then `id` among the `waiting` rows (a student who leaves and comes back goes to
    the end)."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        UniqueConstraint("session_id", "student_id", name="uq_waitlist_session_student"),
        Index("ix_waitlist_line", "session_id", "status", "joined_at"),
        Index("ix_waitlist_student_status", "student_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="video_sessions.id", ondelete="CASCADE")
    student_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    status: str = Field(default=WaitlistStatus.WAITING, max_length=16)
    joined_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # When the student was told to top up (a promotion skipped them for want of money).
    short_notified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class EnrollmentStatus(StrEnum):
    ACTIVE = "active"
    UNENROLLED = "unenrolled"
    CANCELLED = "cancelled"  # the session was cancelled


class Enrollment(SQLModel, table=True):
    """A student's seat in a session: one row per pair, reactivated on re-enrollment."""

    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("session_id", "student_id", name="uq_enrollment_session_student"),
        Index("ix_enrollments_student_status", "student_id", "status"),
        # enrolled_at: a session's roster in order (0004); student_id: who of a finished
        # session's seated students joined, read from the index alone (0013).
        Index("ix_enrollments_session_status", "session_id", "status", "enrolled_at", "student_id"),
        # The dashboard's enrollments per day: a seek on the teacher, no join (0013).
        Index("ix_enrollments_teacher_enrolled", "teacher_id", "enrolled_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="video_sessions.id")
    student_id: int = Field(foreign_key="users.id")
    # The session's teacher, copied at the insert (a session never changes teacher).
    teacher_id: int = Field(foreign_key="users.id")
    status: str = Field(default=EnrollmentStatus.ACTIVE, max_length=16)
    enrolled_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class MaterialKind(StrEnum):
    LINK = "link"
    FILE = "file"


class Material(SQLModel, table=True):
    """A link or an uploaded file; files live under a random name outside public folders."""

    __tablename__ = "materials"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="video_sessions.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=8)
    title: str = Field(max_length=200)
    url: str | None = Field(default=None, max_length=2048)
    storage_name: str | None = Field(default=None, max_length=64)
    filename: str | None = Field(default=None, max_length=255)
    content_type: str | None = Field(default=None, max_length=128)
    size_bytes: int | None = Field(default=None)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Attendance(SQLModel, table=True):
    """Who joined a session, when, and for how long (from the room's heartbeats)."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("session_id", "user_id", name="uq_attendance_session_user"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="video_sessions.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    first_joined_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    left_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    join_count: int = Field(default=1)
    seconds_attended: int = Field(default=0)
