"""Word search through the index (FTS5 on SQLite, tsvector + GIN on PostgreSQL), on both databases.

The index is kept by database triggers: these tests change sessions, tags and names through the
services (or, where no service exists yet, through the ORM) and search again.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from tests.factories import make_session, make_student, make_teacher
from tests.statements import recorded, sqlite_plan
from visio.models import Tag, User, VideoSession
from visio.services import catalog, search_index, session_edit, sessions
from visio.services.catalog import SessionFilters
from visio.services.search_index import search_words


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request):
    """The services' unit of work on a migrated database of each kind."""
    if request.param == "postgresql":
        yield request.getfixturevalue("pg_db")
        return
    with Session(request.getfixturevalue("engine"), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def teacher(db, clock):
    return make_teacher(db, clock=clock, full_name="Camille Durand")


@pytest.fixture
def student(db, clock):
    return make_student(db, clock=clock)


def ids(page):
    return [row.session.id for row in page.rows]


def mine(db, teacher, clock, q, **filters):
    return ids(
        catalog.teacher_sessions(
            db=db, actor=teacher, filters=SessionFilters(q=q, **filters), page_size=100, clock=clock
        )
    )


def open_to(db, student, clock, q, **filters):
    return ids(
        catalog.available_sessions(
            db=db, actor=student, filters=SessionFilters(q=q, **filters), page_size=100, clock=clock
        )
    )


def published(db, teacher, clock, **fields):
    return make_session(db, teacher=teacher, clock=clock, publish=True, **fields)


def indexed_rows(db):
    db.rollback()
    return db.exec(sa.text(f"SELECT count(*) FROM {search_index.INDEX_TABLE}")).one()[0]


# --- what a search finds --------------------------------------------------------------------


def test_each_keystroke_searches_its_own_words_through_the_kept_statement(
    db, clock, teacher, student
):
    algebra = published(db, teacher, clock, title="Algèbre linéaire").id
    chemistry = published(db, teacher, clock, title="Chimie organique").id
    both = published(db, teacher, clock, title="Chimie et algèbre").id
    catalog._kept_open_catalog.cache_clear()

    assert sorted(open_to(db, student, clock, "algèbre")) == sorted([algebra, both])
    assert sorted(open_to(db, student, clock, "chimie")) == sorted([chemistry, both])
    assert open_to(db, student, clock, "chimie algèbre") == [both]
    assert open_to(db, student, clock, "alg") == [algebra, both]  # the last word, a prefix
    assert open_to(db, student, clock, "...") == []  # no word at all: nothing, not everything
    # One statement per number of words (and none for "..."), whatever the words were; on
    # SQLite one for any words, the matches' ids being read first.
    sqlite = db.get_bind().dialect.name == "sqlite"
    assert catalog._kept_open_catalog.cache_info().currsize == (1 if sqlite else 2)


@pytest.mark.parametrize("q", ["algebre", "ALGEBRE", "Algèbre", "algèbre", "ALGÈBRE", "AlGeBrE"])
def test_case_and_accents_fold_both_ways(db, clock, teacher, q):
    made = [
        published(db, teacher, clock, title=title).id
        for title in ("Algèbre", "ALGEBRE", "algebre", "ALGÈBRE")
    ]
    published(db, teacher, clock, title="Géométrie")
    assert sorted(mine(db, teacher, clock, q)) == made


@pytest.mark.parametrize(
    "q", ["a", "al", "algè", "ALGE", "algeb", "linéaire alg", "lineaire ALGÈB"]
)
def test_the_last_word_is_a_prefix(db, clock, teacher, q):
    algebra = published(db, teacher, clock, title="Algèbre linéaire")
    published(db, teacher, clock, title="Géométrie")
    assert mine(db, teacher, clock, q) == [algebra.id]


def test_words_before_the_last_are_whole_words(db, clock, teacher):
    algebra = published(db, teacher, clock, title="Algèbre linéaire")
    assert mine(db, teacher, clock, "lin algèbre") == []
    assert mine(db, teacher, clock, "algèbre lin") == [algebra.id]


def test_every_word_must_match_in_any_field(db, clock, teacher, student):
    wanted = published(
        db,
        teacher,
        clock,
        title="Révolution française",
        description="La prise de la Bastille",
        tags=["Histoire"],
    )
    published(db, teacher, clock, title="Révolution industrielle", tags=["Histoire"])
    other = make_teacher(db, clock=clock, full_name="Zoé Leroy")
    theirs = published(db, other, clock, title="Bastille et révolution", tags=["Histoire"])

    assert open_to(db, student, clock, "durand bastille histoire revolution") == [wanted.id]
    assert open_to(db, student, clock, "zoe BASTILLE") == [theirs.id]
    assert len(open_to(db, student, clock, "histoire révolution")) == 3
    assert open_to(db, student, clock, "durand bastille géographie") == []


def test_a_teachers_own_list_does_not_search_their_name(db, clock, teacher, student):
    session = published(db, teacher, clock, title="Atelier")
    assert mine(db, teacher, clock, "durand") == []
    assert mine(db, teacher, clock, "atelier") == [session.id]
    assert open_to(db, student, clock, "durand") == [session.id]
    # The same words once more: each listing keeps its own fields (compiled statements are cached).
    assert mine(db, teacher, clock, "durand") == []


def test_search_combines_with_the_other_filters(db, clock, teacher, student):
    free = published(db, teacher, clock, title="Chimie organique", tags=["bac"])
    paid = published(db, teacher, clock, title="Chimie organique", is_paid=True, price_cents=500)
    mineral = published(db, teacher, clock, title="Chimie minérale", tags=["bac"])
    assert open_to(db, student, clock, "chimie org", is_paid=False, tag="bac") == [free.id]
    assert open_to(db, student, clock, "CHIMIE", sort="price_desc") == [
        paid.id,
        free.id,
        mineral.id,
    ]
    assert open_to(db, student, clock, "chimie", platform="zoom") == []


def test_an_empty_search_finds_everything(db, clock, teacher, student):
    made = {published(db, teacher, clock).id for _ in range(3)}
    assert set(mine(db, teacher, clock, "")) == made
    assert set(open_to(db, student, clock, "   ")) == made


@pytest.mark.parametrize(
    "q",
    [
        '"foo" OR bar*',
        ") (",
        "(",
        '"',
        "'",
        "*",
        "foo*",
        "NEAR(foo bar)",
        "title:foo",
        "{title}: foo",
        "^foo",
        "-foo",
        "foo AND NOT bar",
        "foo & !bar | baz",
        "foo:*",
        "foo <-> bar",
        "\\",
        "'; DROP TABLE users; --",
        "%_",
        "\x00",
        "😀 foo",
    ],
)
def test_query_syntax_in_the_search_is_plain_text(db, clock, teacher, student, q):
    foo_bar = published(db, teacher, clock, title="Foo Bar")
    foo_or_barbecue = published(db, teacher, clock, title="foo or barbecue near bar baz")
    listed = open_to(db, student, clock, q)  # never an error
    assert listed == [s.id for s in (foo_bar, foo_or_barbecue) if plain_match(s.title, q)]


def plain_match(title, q):
    """What the search means, the long way: whole words, and the last one a prefix."""
    words = [w.lower() for w in search_words(q)]
    tokens = re.findall(r"[^\W_]+", title.lower())
    if not words:
        return False
    *whole, last = words
    return all(w in tokens for w in whole) and any(t.startswith(last) for t in tokens)


def test_a_quoted_or_query_means_every_word(db, clock, teacher, student):
    published(db, teacher, clock, title="Foo Bar")
    wanted = published(db, teacher, clock, title="foo or barbecue")
    assert open_to(db, student, clock, '"foo" OR bar*') == [wanted.id]
    assert open_to(db, student, clock, ") (") == []


def test_search_words_are_letters_and_digits_once_each_the_last_kept_last():
    assert search_words('"foo" OR bar*') == ["foo", "OR", "bar"]
    assert search_words("l'algèbre, 100% (niveau_2)") == ["l", "algèbre", "100", "niveau", "2"]
    assert search_words("alg alg algèbre alg") == ["algèbre", "alg"]
    assert search_words("e\u0301te\u0301") == ["été"]  # decomposed accents are composed first
    assert search_words(") ( * -") == []


# --- the index follows every write ----------------------------------------------------------


def edit(db, teacher, session, clock, **changes):
    current = session_edit.current_input(db, session)
    return session_edit.update_session(
        db=db,
        actor=teacher,
        video_session_id=session.id,
        data=replace(current, **changes),
        clock=clock,
    )


def test_editing_a_session_reindexes_its_text_and_tags(db, clock, teacher):
    session = published(
        db, teacher, clock, title="Algèbre", description="Équations", tags=["maths"]
    )
    edit(db, teacher, session, clock, title="Géométrie", description="Triangles", tags=["dessin"])

    for gone in ("algèbre", "équations", "maths"):
        assert mine(db, teacher, clock, gone) == []
    for found in ("géométrie", "triangles", "dessin", "GEOMETRIE triangles dessin"):
        assert mine(db, teacher, clock, found) == [session.id]


def test_retagging_adds_and_removes_tags(db, clock, teacher):
    session = published(db, teacher, clock, title="Atelier", tags=["maths", "bac"])
    edit(db, teacher, session, clock, tags=["bac", "oral"])
    assert mine(db, teacher, clock, "maths") == []
    assert mine(db, teacher, clock, "bac oral") == [session.id]
    edit(db, teacher, session, clock, tags=[])
    assert mine(db, teacher, clock, "bac") == []
    assert mine(db, teacher, clock, "atelier") == [session.id]


def test_renaming_a_tag_reindexes_every_session_that_has_it(db, clock, teacher):
    tagged = [published(db, teacher, clock, tags=["géometrie"]) for _ in range(2)]
    published(db, teacher, clock, tags=["histoire"])
    tag = db.exec(sa.select(Tag).where(Tag.name == "géometrie")).scalar_one()
    tag.name = "géométrie plane"  # no service renames tags yet: the triggers cover any writer
    db.commit()
    assert mine(db, teacher, clock, "geometrie plane") == sorted(s.id for s in tagged)
    assert mine(db, teacher, clock, "histoire plane") == []


def test_a_teachers_new_name_is_found(db, clock, teacher, student):
    session = published(db, teacher, clock)
    user = db.get(User, teacher.id)
    user.full_name = "Camille Lefèvre"  # no service renames accounts yet: the triggers cover it
    db.commit()
    assert open_to(db, student, clock, "durand") == []
    assert open_to(db, student, clock, "LEFEVRE camille") == [session.id]


def test_deleting_a_session_removes_it_from_the_index(db, clock, teacher):
    kept = make_session(db, teacher=teacher, clock=clock, title="Algèbre", tags=["maths"])
    deleted = make_session(db, teacher=teacher, clock=clock, title="Algèbre", tags=["maths"])
    assert indexed_rows(db) == 2
    sessions.delete_session(db=db, actor=teacher, video_session_id=deleted.id, clock=clock)
    assert mine(db, teacher, clock, "algebre maths") == [kept.id]
    assert indexed_rows(db) == 1


# --- the index is what answers --------------------------------------------------------------


def search_statements(db, listing, **kwargs):
    """The count and page statements of one listing call, with their parameters (not the
    index's own list of the matches, which the open catalog reads first on SQLite)."""
    with recorded(db) as sent:
        listing(db, **kwargs)
    return [one for one in sent if "video_sessions" in one.sql][:2]


@pytest.mark.parametrize(
    "filters",
    [{"is_paid": False}, {"status": "scheduled", "platform": "jitsi"}, {"tag": "maths"}],
)
def test_sqlite_reads_the_matches_ids_from_the_fts_index_then_looks_them_up(engine, clock, filters):
    with Session(engine, expire_on_commit=False) as db:
        student = seed_algebra(db, clock)
        with recorded(db) as sent:
            open_to(db, student, clock, q="linéaire alg", **filters)
        first, *rest = sent
        assert "session_search MATCH" in first.sql  # the index, read once
        found = [one for one in rest if "video_sessions" in one.sql]
        assert found
        for statement, params in found:
            plan = sqlite_plan(db, statement, params)
            assert not [step for step in plan if "session_search" in step], plan
            assert any(step.startswith("SCAN matched VIRTUAL TABLE") for step in plan), plan
            # The sessions are fetched by id from the matches, never walked through another
            # index (the status one would visit every upcoming session).
            assert "SEARCH video_sessions USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
            assert not [step for step in plan if "video_sessions USING INDEX" in step], plan
            assert not [step for step in plan if step.startswith("SCAN video_sessions")], plan


def test_a_search_no_session_matches_reads_the_index_alone(engine, clock):
    with Session(engine, expire_on_commit=False) as db:
        student = seed_algebra(db, clock)
        with recorded(db) as sent:
            listed = catalog.available_sessions(
                db=db, actor=student, filters=SessionFilters(q="zoologie"), clock=clock
            )
        assert (listed.rows, listed.total, listed.pages) == ([], 0, 1)
        assert [one.sql for one in sent if "video_sessions" in one.sql] == []


def many_hold_the_word(db, clock, monkeypatch):
    """Six open sessions and two past ones hold "atelier" (more than the 3 matches past which
    a search walks the open sessions), four open ones do not; a student to look for them."""
    monkeypatch.setattr(catalog, "WALK_AFTER_MATCHES", 3)
    teacher = make_teacher(db, clock=clock)
    for day in range(1, 7):
        start = clock() + timedelta(days=7 - day, hours=day)  # ids and starts in opposite orders
        published(db, teacher, clock, title=f"Atelier {day}", starts_at=start, price_cents=0)
    for day in range(1, 5):
        published(db, teacher, clock, title=f"Cours {day}", starts_at=clock() + timedelta(days=day))
    for day in (1, 2):
        past = published(db, teacher, clock, title=f"Atelier passé {day}")
        past.starts_at = clock() - timedelta(days=day)
        past.ends_at = past.starts_at + timedelta(hours=1)
        db.add(past)
    db.commit()
    return make_student(db, clock=clock)


@pytest.mark.parametrize(
    "filters",
    [{}, {"is_paid": False}, {"status": "scheduled"}, {"sort": "price_asc"}, {"sort": "popular"}],
)
def test_a_word_many_sessions_hold_finds_the_same_as_its_listed_matches(
    engine, clock, monkeypatch, filters
):
    """Walked (soonest first) or read from the index in the page's statement (another order),
    as from the list of the matches' ids."""
    with Session(engine, expire_on_commit=False) as db:
        student = many_hold_the_word(db, clock, monkeypatch)

        def pages(page_size):
            found = []
            for page in (1, 2, 3):
                listed = catalog.available_sessions(
                    db=db,
                    actor=student,
                    filters=SessionFilters(q="ateli", **filters),
                    page=page,
                    page_size=page_size,
                    clock=clock,
                )
                found.append((ids(listed), listed.total, listed.capped))
            return found

        walked = pages(2)
        monkeypatch.setattr(catalog, "WALK_AFTER_MATCHES", 1_000)  # looked up from the list
        assert walked == pages(2)
        assert [total for _, total, _ in walked] == [6, 6, 6]
        assert sum(len(page) for page, _, _ in walked) == 6


def test_sqlite_walks_the_open_sessions_when_many_hold_the_word(engine, clock, monkeypatch):
    """A word many sessions hold: the open sessions in the order of their index, each tested
    against the matches read once, the page stopping at its rows and the count at the cap."""
    with Session(engine, expire_on_commit=False) as db:
        student = many_hold_the_word(db, clock, monkeypatch)
        found = search_statements(db, open_to, student=student, clock=clock, q="atelier")
        assert len(found) == 2  # the page, then its count apart
        for statement, params in found:
            plan = sqlite_plan(db, statement, params)
            assert any(
                "video_sessions USING COVERING INDEX ix_video_sessions_open" in step
                for step in plan
            ), plan
            assert any(step.startswith("LIST SUBQUERY") for step in plan), plan

        # In another order the matches are read from the index: a walk would read every open
        # session to sort them.
        found = search_statements(
            db, open_to, student=student, clock=clock, q="atelier", sort="price_asc"
        )
        plan = sqlite_plan(db, *found[0])
        assert "SEARCH video_sessions USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan

        assert not any(step.startswith("SCAN matched") for step in plan), plan

        monkeypatch.setattr(catalog, "WALK_AFTER_MATCHES", 1_000)
        found = search_statements(db, open_to, student=student, clock=clock, q="atelier")
        plan = sqlite_plan(db, *found[0])
        assert "SEARCH video_sessions USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
        assert any(step.startswith("SCAN matched") for step in plan), plan


def test_the_index_lists_the_matches_up_to_a_bound(engine, clock, monkeypatch):
    with Session(engine, expire_on_commit=False) as db:
        many_hold_the_word(db, clock, monkeypatch)
        titles = dict(db.exec(sa.select(VideoSession.id, VideoSession.title)).all())

        def listed(words, upto=100):
            found = search_index.list_matches(db, words, upto=upto)
            assert found.count == len(json.loads(found.ids))
            return sorted(titles[session_id] for session_id in json.loads(found.ids))

        holding = [f"Atelier {day}" for day in range(1, 7)] + ["Atelier passé 1", "Atelier passé 2"]
        assert listed(["atelier"]) == sorted(holding)
        assert len(listed(["atelier"], upto=4)) == 4
        assert listed(["atel"]) == sorted(holding)  # the last, a prefix
        assert listed(["atelier", "passé"]) == ["Atelier passé 1", "Atelier passé 2"]
        assert listed(["cours", "atelier"]) == []


def test_sqlite_searches_a_teachers_own_list_within_their_sessions(engine, clock):
    with Session(engine, expire_on_commit=False) as db:
        seed_algebra(db, clock)
        teacher = db.exec(sa.select(User).where(User.role == "teacher")).scalar_one()
        found = search_statements(
            db, mine, teacher=teacher, clock=clock, q="linéaire alg", status="scheduled"
        )
        for statement, params in found:
            plan = sqlite_plan(db, statement, params)
            assert any(step.startswith("SCAN session_search VIRTUAL TABLE") for step in plan), plan
            assert not [step for step in plan if step.startswith("SCAN video_sessions")], plan


@pytest.mark.postgres
def test_postgresql_reads_the_gin_index(pg_db, clock):
    student = seed_algebra(pg_db, clock)
    # Among thousands of other upcoming sessions, as at scale; with the statistics to know it.
    teacher_id = pg_db.exec(sa.select(User.id).where(User.role == "teacher")).scalar_one()
    pg_db.exec(
        sa.text(
            "INSERT INTO video_sessions (teacher_id, title, description, starts_at, ends_at, "
            "duration_minutes, timezone, platform, link, status, is_paid, price_cents, currency, "
            "enrolled_count, created_at, updated_at) "
            "SELECT :teacher, 'Histoire ' || n, '', :starts, :starts + interval '1 hour', 60, "
            "'UTC', 'jitsi', 'https://meet.jit.si/x' || n, 'scheduled', false, 0, 'EUR', 0, "
            ":now, :now FROM generate_series(1, 3000) AS n"
        ),
        params={"teacher": teacher_id, "starts": clock() + timedelta(days=2), "now": clock()},
    )
    pg_db.commit()
    pg_db.connection().exec_driver_sql("ANALYZE")
    found = search_statements(
        pg_db, open_to, student=student, clock=clock, q="linéaire alg", is_paid=False
    )
    for statement, params in found:
        conn = pg_db.connection()
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", params))
        assert "Bitmap Index Scan on ix_session_search_document" in plan, plan
    pg_db.rollback()


def seed_algebra(db, clock):
    """Three matching published sessions and a student to look for them."""
    teacher = make_teacher(db, clock=clock)
    for _ in range(3):
        published(db, teacher, clock, title="Algèbre linéaire", tags=["maths"])
    return make_student(db, clock=clock)
