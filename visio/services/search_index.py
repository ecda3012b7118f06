"""The sessions' word index: which sessions hold every word of a search, read through the index.

One document per session (title, description, tag names, teacher name) lives in `session_search`:
an FTS5 table on SQLite (`unicode61 remove_diacritics 2`), a weighted tsvector under a GIN index on
PostgreSQL ('simple' configuration, accents folded by `visio_search_fold`). Migration 0003 creates
it with database triggers that re-index a session on every write to its text, its tags, a tag's
name or its teacher's name: no service has anything to call, and raw SQL writes are covered too.

Here is the reading side. User text never reaches the query syntax: it is cut into words (runs of
letters and digits, as both tokenizers see them) and each word is quoted (FTS5) or parsed as plain
text (`plainto_tsquery`) on its own. Every word must match, in any field; the last one is a prefix,
so a list narrows as the user types ("algè" finds "Algèbre").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, bindparam, false, func, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType
from sqlmodel import Session

INDEX_TABLE = "session_search"
_WORD = re.compile(r"[^\W_]+")


def is_index_table(name: str) -> bool:
    """Whether a table is the index or one of FTS5's shadow tables (none is a model's)."""
    return name == INDEX_TABLE or name.startswith(f"{INDEX_TABLE}_")


def search_words(q: str) -> list[str]:
    """The words of a search, in order, once each; the last one typed stays last."""
    words = _WORD.findall(unicodedata.normalize("NFC", q or ""))
    if not words:
        return []
    last = words[-1]
    return [w for w in dict.fromkeys(words[:-1]) if w != last] + [last]


def matches(session_id: Any, q: str, *, teacher_name: bool) -> ColumnElement[bool]:
    """`session_id` is a session whose document holds every word of `q` (never true without one).

    `teacher_name=False` leaves the teacher's name out: a teacher's own list is all theirs.
    """
    words = search_words(q)
    if not words:
        return false()  # only punctuation: there is no word to find
    return _matches(session_id, words, teacher_name=teacher_name)


def matches_slots(session_id: Any, count: int, *, teacher_name: bool) -> ColumnElement[bool]:
    """`matches` for `count` words still to come, as the parameters `word_params` names: a
    statement kept for every search of that many words (building one per keystroke cost more
    than running it)."""
    slots = [bindparam(f"search_word_{i}", type_=String) for i in range(count)]
    return _matches(session_id, slots, teacher_name=teacher_name)


def word_params(words: list[str]) -> dict[str, str]:
    """The values of `matches_slots`' parameters for these words (from `search_words`)."""
    return {f"search_word_{i}": word for i, word in enumerate(words)}


_LIST_MATCHES = text(
    "SELECT count(*), json_group_array(rowid) FROM"
    f" (SELECT rowid FROM {INDEX_TABLE} WHERE {INDEX_TABLE} MATCH :query LIMIT :upto)"
)
_LISTED = bindparam("match_ids", type_=String)


@dataclass(frozen=True)
class Matches:
    """The sessions holding every word of a search, as far as `list_matches` read them."""

    count: int
    ids: str  # their ids, as one JSON array: the parameter of `listed`


def list_matches(db: Session, words: list[str], *, upto: int) -> Matches:
    """The sessions holding every word (the last a prefix), at most `upto`, read from the index
    in one row: SQLite's FTS5 only (the query `_matches_sqlite` builds in SQL, built here)."""
    query = " ".join(f'"{word}"' for word in words) + "*"
    count, ids = db.connection().execute(_LIST_MATCHES, {"query": query, "upto": upto}).one()
    return Matches(int(count), ids)


def listed(session_id: Any) -> ColumnElement[bool]:
    """`session_id` is one of the matches `list_matches` read, given as `listed_params` says:
    one statement for any number of them (SQLite)."""
    matched = func.json_each(_LISTED).table_valued("value").alias("matched")
    return session_id.in_(select(matched.c.value))  # type: ignore[no-any-return]


def listed_params(matches: Matches) -> dict[str, str]:
    """The value of `listed`'s parameter for these matches."""
    return {_LISTED.key: matches.ids}


def _matches(session_id: Any, words: list[Any], *, teacher_name: bool) -> ColumnElement[bool]:
    found = _MatchesAll if teacher_name else _MatchesOwn
    return found(session_id, *words)


# --- SQL, per database ----------------------------------------------------------------------
# The words are bound parameters (the arguments after the session id), so a compiled statement is
# cached by shape, never by the words. The two classes differ in the fields they search.


class _MatchesAll(FunctionElement[bool]):
    # A condition, yet not typed Boolean: SQLite would then render `(... IN ...) = 1`, which hides
    # the IN from its planner (no lookup of the matches by id).
    type = NullType()
    inherit_cache = True


class _MatchesOwn(_MatchesAll):
    inherit_cache = True


@compiles(_MatchesAll, "sqlite")
def _matches_sqlite(element: _MatchesAll, compiler: Any, **kw: Any) -> str:
    session_id, *words = (compiler.process(c, **kw) for c in element.clauses)
    # Each word becomes a quoted FTS5 string ("..."): nothing in it is query syntax, and a word
    # holds no double quote (it is letters and digits only). `"word"*` is a prefix query.
    phrases = [f"""'"' || {w} || '"'""" for w in words]
    phrases[-1] += " || '*'"
    query = " || ' ' || ".join(phrases)
    if isinstance(element, _MatchesOwn):
        query = f"'{{title description tags}} : (' || {query} || ')'"
    return f"{session_id} IN (SELECT rowid FROM {INDEX_TABLE} WHERE {INDEX_TABLE} MATCH {query})"


@compiles(_MatchesAll)  # PostgreSQL
def _matches_postgresql(element: _MatchesAll, compiler: Any, **kw: Any) -> str:
    session_id, *words = (compiler.process(c, **kw) for c in element.clauses)
    terms = [f"plainto_tsquery('simple', visio_search_fold({w}))" for w in words]
    # A prefix: PostgreSQL's own rendering of the parsed word, with :* after its last lexeme
    # (a word that parses to nothing gives NULL, which matches nothing).
    terms[-1] = f"(nullif({terms[-1]}::text, '') || ':*')::tsquery"
    where = "document @@ search.query"
    if isinstance(element, _MatchesOwn):  # weights A, B, C: title, description, tags
        where += " AND ts_filter(document, '{a,b,c}') @@ search.query"
    return (
        f"{session_id} IN (SELECT session_id FROM {INDEX_TABLE}, "
        f"(SELECT {' && '.join(terms)} AS query) AS search WHERE {where})"
    )
