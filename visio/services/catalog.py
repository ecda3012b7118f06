"""Read-only listings of sessions: filtering, counting and paging all happen in SQL.

A listing returns one `Page` of `SessionRow`s; the tags (and the money figures) of that page are
fetched afterwards with one grouped query each, never one query per row. The open catalog, read on
every keystroke of a student's search and the API's busiest listing, does it in one statement: the
page is chosen on ids, then its rows, tags, materials and the student's seats are read for those
rows alone; it is counted up to `COUNT_CAP`. Its statements are kept per set of filters (words
aside) and executed with the clock, the student and the paging bound (building one cost more than
running it), and a count that reached the cap is remembered a few seconds (`_capped_recently`).
The effective status (`ongoing`, `finished`) is computed in SQL from the clock, exactly as
`effective_status` does.

Word search (`filters.q`) reads the search index (see `search_index`): the index narrows first to
the sessions holding every word, case and accents folded ("ALGEBRE" finds "Algèbre"), the last word
a prefix; the other filters and the order apply to those. On SQLite the open catalog first reads
the ids of the matches, and looks them up by id; words more than `WALK_AFTER_MATCHES` sessions
hold are found the other way round: the open sessions are walked in order, each tested against
the matches (see `_reading_matches`). Sorting by title folds the same way on both databases:
`translate(lower(...))` on PostgreSQL, `fold_text` registered on SQLite.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, String, and_, bindparam, case, func, literal, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, select

from visio.clock import EARLIEST_YEAR, LATEST_YEAR, Clock, in_calendar, utcnow
from visio.models import (
    EffectiveStatus,
    Enrollment,
    EnrollmentStatus,
    Material,
    Platform,
    Purchase,
    PurchaseStatus,
    Role,
    SessionTag,
    StoredStatus,
    Tag,
    User,
    VideoSession,
)
from visio.search_text import folded_sql
from visio.services import search_index
from visio.services.accounts import require_role
from visio.services.enrollments import moved_since
from visio.services.errors import InvalidInput

MAX_PAGE_SIZE = 100
# The open catalog is counted this far and no further ("1,000+"): an exact count would read every
# open session on each page, a cost that grows with the platform. Pages past it still list.
COUNT_CAP = 1_000
# How long a count that reached the cap is taken as still reaching it (per process): the
# catalog then says "1,000+" without counting again. Only a count falling back under the cap
# could make it wrong, and then for these few seconds.
CAPPED_COUNT_SECONDS = 10.0
Q_MAX_LENGTH = 100
# How the open catalog reads a search's matches (see `_reading_matches`).
FROM_INDEX = "from_index"  # from the index, in the page's statement
FROM_IDS = "from_ids"  # by id, from their list read first
WALKED = "walked"  # the open sessions in order, each tested against the matches
STATUSES = tuple(s.value for s in EffectiveStatus)
PLATFORMS = tuple(p.value for p in Platform)
TEACHER_SORTS = ("soonest", "latest", "title", "price", "enrolled")
STUDENT_SORTS = ("soonest", "price_asc", "price_desc", "popular")
PRICE_SORTS = ("price", "price_asc", "price_desc")
ENROLLMENT_VIEWS = ("upcoming", "ongoing", "past", "cancelled")

# --- rows and filters -----------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    # The open catalog gives the session's database row instead of an ORM object: the same field
    # names, no identity map to fill (building 20 objects cost more than its query), as a named
    # tuple (`_record_type`; the cards and the API's JSON read each field: a Row looks a name up
    # ten times slower than an attribute).
    session: VideoSession
    teacher_name: str
    tags: list[str] = field(default_factory=list)
    revenue_cents: int = 0  # teacher listing: purchases held or released
    enrollment_status: str | None = None  # my_enrollments: the student's enrollment
    refunded_cents: int = 0  # my_enrollments: what the student got back for this session
    moved: bool = False  # my_enrollments: rescheduled since the student enrolled (refund right)
    materials_count: int | None = None  # available_sessions: read with the page (None: not read)


@dataclass(frozen=True)
class Page:
    rows: list[SessionRow]
    total: int
    page: int
    page_size: int
    capped: bool = False  # counting stopped at `total`: there are more

    @property
    def pages(self) -> int:
        """Pages to offer; past a capped count, one more while the current page is full."""
        counted = max(1, -(-self.total // self.page_size))
        if not self.capped:
            return counted
        return max(counted, self.page + (1 if len(self.rows) == self.page_size else 0))


@dataclass(frozen=True)
class SessionFilters:
    """What a sessions list is narrowed and ordered by; dates are days in the viewer's zone."""

    q: str = ""
    status: str | None = None  # effective status
    platform: str | None = None
    is_paid: bool | None = None
    tag: str | None = None
    price_min_cents: int | None = None
    price_max_cents: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "soonest"


def clean_filters(filters: SessionFilters, *, sorts: tuple[str, ...]) -> SessionFilters:
    """The filters trimmed (q cut at 100 characters, "" meaning "any") and checked."""
    status = filters.status or None
    if status is not None and status not in STATUSES:
        raise InvalidInput("filter_status_invalid", field="status")
    platform = filters.platform or None
    if platform is not None and platform not in PLATFORMS:
        raise InvalidInput("filter_platform_invalid", field="platform")
    sort = filters.sort or "soonest"
    if sort not in sorts:
        raise InvalidInput("sort_invalid", field="sort")
    for name in ("price_min_cents", "price_max_cents"):
        cents = getattr(filters, name)
        if cents is not None and (type(cents) is not int or cents < 0):
            raise InvalidInput("price_range_invalid", field=name)
    low, high = filters.price_min_cents, filters.price_max_cents
    if low is not None and high is not None and low > high:
        raise InvalidInput("price_range_invalid", field="price_max_cents")
    for name in ("date_from", "date_to"):
        day = getattr(filters, name)
        if day is not None and not isinstance(day, date):
            raise InvalidInput("date_range_invalid", field=name)
        if day is not None and not in_calendar(day):
            raise InvalidInput(
                "date_out_of_range", field=name, earliest=EARLIEST_YEAR, latest=LATEST_YEAR
            )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise InvalidInput("date_range_invalid", field="date_to")
    # Tags are stored like this by sessions.normalize_tags.
    tag = " ".join((filters.tag or "").split()).lower().lstrip("#") or None
    q = " ".join((filters.q or "").split())[:Q_MAX_LENGTH]
    return replace(filters, q=q, status=status, platform=platform, sort=sort, tag=tag)


# --- folding text for sorting ----------------------------------------------------------------


class fold(FunctionElement[str]):
    """`fold_text` in SQL, the same on PostgreSQL and SQLite."""

    type = String()
    inherit_cache = True


@compiles(fold)
def _fold_sql(element: fold, compiler: Any, **kw: Any) -> str:
    # Upper-case accented letters are in the table too: lower() may be ASCII-only (C locale).
    return folded_sql(compiler.process(element.clauses, **kw))


@compiles(fold, "sqlite")
def _fold_sqlite(element: fold, compiler: Any, **kw: Any) -> str:
    return f"visio_fold({compiler.process(element.clauses, **kw)})"


class _no_index(FunctionElement[Any]):
    """A column SQLite's planner may not reach through an index (`+column`); as is elsewhere.
    It keeps the column's type: a value compared with it is bound as the column's would be."""

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(_no_index)
def _no_index_sql(element: _no_index, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_no_index, "sqlite")
def _no_index_sqlite(element: _no_index, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


# --- SQL pieces -----------------------------------------------------------------------------

S = VideoSession
_SCHEDULED = S.status == StoredStatus.SCHEDULED
Moment = datetime | ColumnElement[datetime]  # a time, or one bound at execution (`_NOW`)


def _status_is(status: str, now: Moment, column: Any = S.status) -> ColumnElement[bool]:
    """Effective status as a condition: see sessions.effective_status."""
    scheduled = column == StoredStatus.SCHEDULED
    if status == EffectiveStatus.SCHEDULED:
        return and_(scheduled, S.starts_at > now)
    if status == EffectiveStatus.ONGOING:
        return and_(scheduled, S.starts_at <= now, S.ends_at > now)
    if status == EffectiveStatus.FINISHED:
        return and_(scheduled, S.ends_at <= now)
    return column == status


def _status_column(f: SessionFilters) -> Any:
    """The status column, kept from SQLite's planner when the search index is to pick the rows.

    Left free, SQLite walks the status index over every upcoming session and tests each against
    the matches: a cost that grows with the table. PostgreSQL's planner has statistics.
    """
    return _no_index(S.status) if f.q else S.status


def _status_case(now: datetime) -> ColumnElement[str]:
    return case(
        (and_(_SCHEDULED, S.ends_at <= now), EffectiveStatus.FINISHED.value),
        (and_(_SCHEDULED, S.starts_at <= now), EffectiveStatus.ONGOING.value),
        else_=S.status,
    )


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("timezone_invalid", field="timezone") from None


def _filter_conditions(
    f: SessionFilters,
    *,
    now: Moment,
    zone: ZoneInfo,
    by_teacher_name: bool,
    word_slots: int = 0,
    matches: str = FROM_INDEX,
) -> list[ColumnElement[bool]]:
    """Every filter as a WHERE condition; each word of q must match some field (the index's).

    `word_slots`: the words are parameters (`search_index.matches_slots`), not q's own.
    `matches`: how the open catalog reads the words' matches (see `_reading_matches`)."""
    where: list[ColumnElement[bool]] = []
    walk = matches == WALKED
    match_id = _no_index(S.id) if walk else S.id
    if matches == FROM_IDS:
        where.append(search_index.listed(S.id))
    elif word_slots:
        where.append(search_index.matches_slots(match_id, word_slots, teacher_name=by_teacher_name))
    elif f.q:
        where.append(search_index.matches(match_id, f.q, teacher_name=by_teacher_name))
    if f.status:
        where.append(_status_is(f.status, now, S.status if walk else _status_column(f)))
    if f.platform:
        where.append(S.platform == f.platform)
    if f.is_paid is not None:
        where.append(S.is_paid == f.is_paid)
        if f.sort in PRICE_SORTS:
            # Said of the price too (a free session's is 0, a paid one's at least the minimum):
            # the walk of the price index starts at the first price that can match.
            where.append(S.price_cents > 0 if f.is_paid else S.price_cents == 0)
    if f.tag:
        tagged = select(SessionTag.session_id).join(Tag, Tag.id == SessionTag.tag_id)
        where.append(S.id.in_(tagged.where(Tag.name == f.tag)))  # type: ignore[union-attr]
    if f.price_min_cents is not None:
        where.append(S.price_cents >= f.price_min_cents)
    if f.price_max_cents is not None:
        where.append(S.price_cents <= f.price_max_cents)
    if f.date_from:
        where.append(S.starts_at >= _day_start(f.date_from, zone))
    if f.date_to:
        where.append(S.starts_at < _day_start(f.date_to + timedelta(days=1), zone))
    return where


def _teacher_order(sort: str, now: datetime) -> tuple[Any, ...]:
    if sort == "latest":
        return (S.starts_at.desc(), S.id.desc())  # type: ignore[attr-defined, union-attr]
    if sort == "title":
        return (fold(S.title), S.id)
    if sort == "price":
        return (S.price_cents, S.starts_at, S.id)
    if sort == "enrolled":
        return (S.enrolled_count.desc(), S.starts_at, S.id)  # type: ignore[attr-defined]
    # soonest: not yet ended by start ascending, then the past by start descending.
    ahead = S.ends_at > now
    return (case((ahead, 0), else_=1), case((ahead, S.starts_at)), S.starts_at.desc(), S.id)  # type: ignore[attr-defined]


def _student_order(sort: str) -> tuple[Any, ...]:
    if sort == "price_asc":
        return (S.price_cents, S.starts_at, S.id)
    if sort == "price_desc":
        return (S.price_cents.desc(), S.starts_at, S.id)  # type: ignore[attr-defined]
    if sort == "popular":
        return (S.enrolled_count.desc(), S.starts_at, S.id)  # type: ignore[attr-defined]
    return (S.starts_at, S.id)


def _bounds(page: int, page_size: int) -> tuple[int, int]:
    return max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)


def _offset(page: int, page_size: int) -> int:
    return (page - 1) * page_size


# --- per-page lookups (one grouped query each) ----------------------------------------------


def tags_by_session(db: Session, session_ids: list[int]) -> dict[int, list[str]]:
    """The tag names of a page of sessions, in one query."""
    found: dict[int, list[str]] = {sid: [] for sid in session_ids}
    if session_ids:
        rows = db.exec(
            select(SessionTag.session_id, Tag.name)
            .join(Tag, Tag.id == SessionTag.tag_id)
            .where(SessionTag.session_id.in_(session_ids))  # type: ignore[attr-defined]
            .order_by(Tag.name)
        ).all()
        for session_id, name in rows:
            found[session_id].append(name)
    return found


def _purchase_sums(
    db: Session, session_ids: list[int], statuses: tuple[str, ...], student_id: int | None = None
) -> dict[int, int]:
    """Sum of purchases per session of a page (optionally one student's), in one query."""
    if not session_ids:
        return {}
    query = (
        select(Purchase.session_id, func.sum(Purchase.amount_cents))
        .where(
            Purchase.session_id.in_(session_ids),  # type: ignore[attr-defined]
            Purchase.status.in_(statuses),  # type: ignore[attr-defined]
        )
        .group_by(Purchase.session_id)
    )
    if student_id is not None:
        query = query.where(Purchase.student_id == student_id)
    return {sid: int(total or 0) for sid, total in db.exec(query).all()}


def revenue_by_session(db: Session, session_ids: list[int]) -> dict[int, int]:
    """Money taken per session (held in escrow or already paid out), in one query."""
    return _purchase_sums(db, session_ids, (PurchaseStatus.HELD, PurchaseStatus.RELEASED))


# Tag names never hold this character (sessions.normalize_tags splits on it, as on any space).
_TAG_SEPARATOR = "\x1f"


def tag_names() -> Any:
    """A listing's column: the session's tag names joined in one string (split by `split_tags`)."""
    return (
        select(func.aggregate_strings(Tag.name, _TAG_SEPARATOR))
        .select_from(SessionTag)
        .join(Tag, Tag.id == SessionTag.tag_id)
        .where(SessionTag.session_id == S.id)
        .scalar_subquery()
    )


def split_tags(joined: str | None) -> list[str]:
    return sorted(joined.split(_TAG_SEPARATOR)) if joined else []


def _rows(db: Session, found: list[tuple[VideoSession, str]]) -> list[SessionRow]:
    tags = tags_by_session(db, [s.id for s, _ in found])  # type: ignore[misc]
    return [SessionRow(s, name, tags[s.id]) for s, name in found]  # type: ignore[index]


# --- listings -------------------------------------------------------------------------------


def teacher_sessions(
    *,
    db: Session,
    actor: User,
    filters: SessionFilters = SessionFilters(),  # frozen: safe to share
    page: int = 1,
    page_size: int = 20,
    clock: Clock = utcnow,
    tz: str = "UTC",
) -> Page:
    """The teacher's own sessions, filtered and sorted, one page with tags and revenue."""
    require_role(actor, Role.TEACHER)
    f = clean_filters(filters, sorts=TEACHER_SORTS)
    zone, now = _zone(tz), clock()
    page, page_size = _bounds(page, page_size)
    where = [
        S.teacher_id == actor.id,
        *_filter_conditions(f, now=now, zone=zone, by_teacher_name=False),
    ]
    total = db.exec(select(func.count()).select_from(S).where(*where)).one()
    order = _teacher_order(f.sort, now)
    # The page is chosen on ids and sort keys alone, then its rows are read: sorting a teacher's
    # thousands of whole rows (descriptions included) for 20 of them cost more than the rest.
    chosen = (
        select(S.id)
        .where(*where)
        .order_by(*order)
        .offset(_offset(page, page_size))
        .limit(page_size)
        .subquery()
    )
    found = db.exec(select(S).join(chosen, chosen.c.id == S.id).order_by(*order)).all()
    rows = _rows(db, [(s, actor.full_name) for s in found])
    revenue = revenue_by_session(db, [r.session.id for r in rows])  # type: ignore[misc]
    rows = [replace(r, revenue_cents=revenue.get(r.session.id, 0)) for r in rows]  # type: ignore[arg-type]
    return Page(rows, total, page, page_size)


# --- the open catalog -----------------------------------------------------------------------
# Bound at execution, so that one statement serves every request with the same filters.
_NOW = bindparam("now")
_STUDENT = bindparam("student_id")
_OFFSET = bindparam("offset")
_LIMIT = bindparam("limit")
_UPTO = bindparam("upto")  # COUNT_CAP + 1: counting further would only say "more"


def _materials_count() -> Any:
    """A listing's column: how many materials the session has (its JSON shows the number)."""
    return (
        select(func.count())
        .select_from(Material)
        .where(Material.session_id == S.id)
        .scalar_subquery()
    )


def _open_catalog(
    f: SessionFilters,
    tz: str,
    word_slots: int = 0,
    from_tag: bool = False,
    matches: str = FROM_INDEX,
) -> tuple[Select[Any], Select[Any]]:
    """The open catalog's page and count statements for these (cleaned) filters.

    `tz` matters to the day filters only (the caller passes "UTC" without any, to share the
    statements kept by `_kept_open_catalog`). `word_slots`: q's words are that many parameters
    (`search_index.word_params`); q itself only says there are words. `from_tag`: the rows are
    found from the tag's sessions (see `_from_tag`). `matches`: how the words' matches are
    read (see `_reading_matches`).
    """
    deadline = func.coalesce(S.enrollment_deadline, S.starts_at)
    filters = _filter_conditions(
        f, now=_NOW, zone=_zone(tz), by_teacher_name=True, word_slots=word_slots, matches=matches
    )
    still_open = [
        deadline > _NOW,
        or_(S.capacity.is_(None), S.enrolled_count < S.capacity),  # type: ignore[union-attr]
        *filters,
    ]
    walk = matches == WALKED
    status = _no_index(S.status) if from_tag else (S.status if walk else _status_column(f))
    where = [status == StoredStatus.SCHEDULED, S.starts_at > _NOW, *still_open]
    # The page's rows are chosen in the order of the sort's own index (see `_walks_sort_index`).
    page_where = (
        [S.status == StoredStatus.SCHEDULED, _no_index(S.starts_at) > _NOW, *still_open]
        if _walks_sort_index(f) and not from_tag
        else where
    )
    seated = (
        select(Enrollment.id)
        .where(
            Enrollment.session_id == S.id,
            Enrollment.student_id == _STUDENT,
            Enrollment.status == EnrollmentStatus.ACTIVE,
        )
        .exists()
    )
    order = _student_order(f.sort)
    # The page is chosen on ids alone, then its rows, tags, materials and marks are read for those
    # only. With words, the search already reads every match to sort them: they are counted in
    # the same pass (the index, or their list, narrows them). Without, or walked, counting stops
    # at COUNT_CAP (`_UPTO`).
    counted = func.count().over() if f.q and not walk else literal(None)
    chosen = (
        select(S.id, counted.label("total"))
        .where(*page_where)
        .order_by(*order)
        .offset(_OFFSET)
        .limit(_LIMIT)
        .subquery()
    )
    page = (
        select(
            *LISTED_COLUMNS,
            User.full_name,
            tag_names().label("tag_names"),
            seated.label("mine"),
            _materials_count().label("materials"),
            chosen.c.total,
        )
        .join(chosen, chosen.c.id == S.id)
        .join(User, User.id == S.teacher_id)
        .order_by(*order)
    )
    first = select(S.id).where(*where).limit(_UPTO).subquery()
    return page, select(func.count()).select_from(first)


def _walks_sort_index(f: SessionFilters) -> bool:
    """Whether the page is read by walking the sort's index (price, popularity) in order.

    Left free, SQLite takes the open sessions by start from ix_video_sessions_open and sorts
    them all (80 ms at 100,000 sessions, each row read from the table for its price). Walked in
    the sort's order, a page stops after its rows; what has started is passed over in the index
    (its start is there too). With words, the search index picks fewer rows than any walk.
    """
    return f.sort in ("price_asc", "price_desc", "popular") and not f.q


def _reading_matches(
    db: Session, f: SessionFilters, words: list[str]
) -> tuple[str, search_index.Matches | None]:
    """How the open catalog reads a search's matches, and their list if it read them first.

    PostgreSQL reads them from its index in the page's statement (FROM_INDEX). SQLite first
    reads the ids of the matches from the index, at most WALK_AFTER_MATCHES + 1 (0.02 to
    2.6 ms at 100,000 sessions), then:
    - up to WALK_AFTER_MATCHES, the page and its count look those ids up (FROM_IDS): the index is
      read once, where the page's statement read it a second time (a rare pair's page at
      100,000 sessions: 2.2 -> 1.2 ms);
    - past it, soonest first, the open sessions are walked in order, each tested against the
      matches read once (WALKED). Reading every match costs what they number: a word every
      description holds took 105 ms; walked, the page stops after its 20 rows and the count at
      COUNT_CAP (14 + 15 ms). The walk follows the start index: in another order it would read
      every open session (by price: 216 ms, where the matches took 137);
    - past it in another order, from the index in the page's statement (FROM_INDEX).
    """
    if db.get_bind().dialect.name != "sqlite":
        return FROM_INDEX, None
    listed = search_index.list_matches(db, words, upto=WALK_AFTER_MATCHES + 1)
    if listed.count <= WALK_AFTER_MATCHES:
        return FROM_IDS, listed
    return (WALKED if f.sort == "soonest" else FROM_INDEX), None


# A search whose words more sessions hold (past ones included) walks the open sessions.
WALK_AFTER_MATCHES = COUNT_CAP

# A tag held by at most this many sessions (past ones included) is read from its sessions.
TAG_FEW_SESSIONS = 1_000
_TAG_SESSIONS = select(func.count()).select_from(
    select(SessionTag.session_id)
    .join(Tag, Tag.id == SessionTag.tag_id)
    .where(Tag.name == bindparam("tag_name"))
    .limit(bindparam("tag_upto"))
    .subquery()
)


def _from_tag(db: Session, f: SessionFilters) -> bool:
    """Whether the open catalog's rows are found from the tag's sessions rather than by walking
    the open sessions in order and testing each one's tags.

    The walk stops once it has its page, and its count once it reaches the cap: fine for a
    common tag, but a rare one (or one nobody uses) lets both read every open session (15 ms at
    100,000 sessions). From the tag's few sessions it is a fraction of a millisecond; from a
    common tag's thousands it would be slower than the walk (8.5 ms against 1.7 for a tag on 5%
    of the sessions). Counting up to TAG_FEW_SESSIONS decides, from the tag's index.
    """
    if not f.tag or f.q:
        return False
    params = {"tag_name": f.tag, "tag_upto": TAG_FEW_SESSIONS + 1}
    found = db.connection().execute(_TAG_SESSIONS, params).scalar_one()
    return int(found) <= TAG_FEW_SESSIONS


# Building the statements, and their cache key, took longer than SQLite took to run them: they
# are kept for the filters that come back (none, a sort, a tag...), and for searches by their
# number of words (the words themselves are parameters: they change with every keystroke).
_kept_open_catalog = lru_cache(maxsize=64)(_open_catalog)
_WORDS = "*"  # q in the filters a kept statement is built for: "there are words"


# When each count of the open catalog last reached the cap, per database and filters.
_capped_at: dict[tuple[Any, ...], float] = {}


def _capped_recently(key: tuple[Any, ...]) -> bool:
    """Whether this count reached the cap less than CAPPED_COUNT_SECONDS ago.

    Only a count past the cap is remembered: below it, every session that opens or fills changes
    the number shown, so it is counted each time (and a small count is cheap).
    """
    at = _capped_at.get(key)
    return at is not None and monotonic() - at < CAPPED_COUNT_SECONDS


def _remember_capped(key: tuple[Any, ...]) -> None:
    if len(_capped_at) >= 1_000:  # filters are typed by users: keep the memory bounded
        _capped_at.clear()
    _capped_at[key] = monotonic()


# What the open catalog's rows hold of a session: what its cards and the API's JSON read (the
# history of a cancellation, an escrow or a move is not shown there). Each column read costs:
# a page of 20 rows read all 30 (13 timestamps), a fifth of the page's time.
LISTED_COLUMNS = tuple(
    getattr(S, name)
    for name in (
        "id",
        "teacher_id",
        "series_id",
        "title",
        "description",
        "starts_at",
        "ends_at",
        "duration_minutes",
        "timezone",
        "platform",
        "link",
        "status",
        "is_paid",
        "price_cents",
        "currency",
        "capacity",
        "enrollment_deadline",
        "enrolled_count",
        "min_participants",
        "decide_at",
        "decided_at",
        "created_at",
    )
)


@lru_cache(maxsize=16)
def _record_type(names: tuple[str, ...]) -> type:
    """A named tuple of these columns, made once per statement shape: a page of 20 rows became
    20 namespaces from their mappings in 130 us, where the tuples take 12 us."""
    return namedtuple("SessionRecord", names, rename=True)  # type: ignore[misc]


def available_sessions(
    *,
    db: Session,
    actor: User,
    filters: SessionFilters = SessionFilters(),
    page: int = 1,
    page_size: int = 20,
    clock: Clock = utcnow,
    tz: str = "UTC",
) -> Page:
    """Published sessions a student can still enroll in (not started, deadline ahead, a seat)."""
    require_role(actor, Role.STUDENT)
    f = clean_filters(filters, sorts=STUDENT_SORTS)
    _zone(tz)  # refused even where no day filter needs it
    page, page_size = _bounds(page, page_size)
    zone_key = tz if f.date_from or f.date_to else "UTC"
    words = search_index.search_words(f.q) if f.q else []
    params = {
        "now": clock(),
        "student_id": actor.id,
        "offset": _offset(page, page_size),
        "limit": page_size,
        "upto": COUNT_CAP + 1,
    }
    matches, listed = _reading_matches(db, f, words) if words else (FROM_INDEX, None)
    if listed is not None and not listed.count:  # no session holds the words
        return Page([], 0, page, page_size)
    if listed is not None:
        params.update(search_index.listed_params(listed))
    else:
        params.update(search_index.word_params(words))
    if words:
        shape, slots = replace(f, q=_WORDS), 0 if listed is not None else len(words)
        page_statement, count_statement = _kept_open_catalog(
            shape, zone_key, slots, matches=matches
        )
    elif f.q:  # only punctuation: a statement that finds nothing
        page_statement, count_statement = _open_catalog(f, zone_key)
    else:
        page_statement, count_statement = _kept_open_catalog(f, zone_key, from_tag=_from_tag(db, f))
    result = db.connection().execute(page_statement, params)
    record = _record_type(tuple(result.keys()))
    found = [record._make(row) for row in result]
    key = (str(db.get_bind().engine.url), f, zone_key, COUNT_CAP)
    counted_apart = not f.q or matches == WALKED  # else the page's rows count every match
    if not counted_apart and found:
        matched = int(found[0].total)
        total, capped = min(matched, COUNT_CAP), matched > COUNT_CAP
    elif counted_apart and _capped_recently(key):
        total, capped = COUNT_CAP, True
    else:  # no words, walked, or a page past the last: count apart
        counted = int(db.connection().execute(count_statement, params).scalar_one())
        total, capped = min(counted, COUNT_CAP), counted > COUNT_CAP
        if capped and counted_apart:
            _remember_capped(key)
    rows = [
        SessionRow(
            row,  # type: ignore[arg-type]
            row.full_name,
            split_tags(row.tag_names),
            enrollment_status=EnrollmentStatus.ACTIVE.value if row.mine else None,
            materials_count=int(row.materials),
        )
        for row in found
    ]
    return Page(rows, total, page, page_size, capped)


def my_enrollments(
    *,
    db: Session,
    actor: User,
    view: str = "upcoming",
    page: int = 1,
    page_size: int = 20,
    clock: Clock = utcnow,
) -> Page:
    """The student's sessions: upcoming, ongoing, past (active seats), or cancelled ones."""
    require_role(actor, Role.STUDENT)
    if view not in ENROLLMENT_VIEWS:
        raise InvalidInput("filter_view_invalid", field="view")
    now = clock()
    page, page_size = _bounds(page, page_size)
    where: list[ColumnElement[bool]] = [Enrollment.student_id == actor.id]
    if view == "cancelled":
        where.append(Enrollment.status == EnrollmentStatus.CANCELLED)
        order: tuple[Any, ...] = (S.cancelled_at.desc(), S.id.desc())  # type: ignore[union-attr]
    else:
        status = {"upcoming": "scheduled", "ongoing": "ongoing", "past": "finished"}[view]
        where += [Enrollment.status == EnrollmentStatus.ACTIVE, _status_is(status, now)]
        newest_first = (S.starts_at.desc(), S.id.desc())  # type: ignore[attr-defined, union-attr]
        order = newest_first if view == "past" else (S.starts_at, S.id)
    total = db.exec(
        select(func.count())
        .select_from(Enrollment)
        .join(S, S.id == Enrollment.session_id)
        .where(*where)
    ).one()
    found = db.exec(
        select(S, User.full_name, Enrollment.status, Enrollment.enrolled_at)
        .select_from(Enrollment)
        .join(S, S.id == Enrollment.session_id)
        .join(User, User.id == S.teacher_id)
        .where(*where)
        .order_by(*order)
        .offset(_offset(page, page_size))
        .limit(page_size)
    ).all()
    ids = [s.id for s, _, _, _ in found]
    tags = tags_by_session(db, ids)  # type: ignore[arg-type]
    refunded = (
        _purchase_sums(db, ids, (PurchaseStatus.REFUNDED,), student_id=actor.id)  # type: ignore[arg-type]
        if view == "cancelled"
        else {}
    )
    rows = [
        SessionRow(
            s,
            name,
            tags[s.id],  # type: ignore[index]
            enrollment_status=enrollment_status,
            refunded_cents=refunded.get(s.id, 0),  # type: ignore[arg-type]
            moved=enrollment_status == EnrollmentStatus.ACTIVE and moved_since(s, enrolled_at),
        )
        for s, name, enrollment_status, enrolled_at in found
    ]
    return Page(rows, total, page, page_size)


def count_by_status(*, db: Session, actor: User, clock: Clock = utcnow) -> dict[str, int]:
    """How many of the teacher's sessions are in each effective status, in one grouped query."""
    require_role(actor, Role.TEACHER)
    # Grouping by a labelled subquery column: PostgreSQL would not match the CASE in GROUP BY
    # with the one in SELECT, their clock parameters being bound separately.
    inner = select(_status_case(clock()).label("status")).where(S.teacher_id == actor.id).subquery()
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in db.exec(select(inner.c.status, func.count()).group_by(inner.c.status)).all():
        counts[status] = int(n)
    return counts
