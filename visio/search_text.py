"""How search compares text: lower-cased, common Latin accents removed ("Algèbre" = "algebre").

Shared by the SQL of the listings and by the SQLite connection, which gets `fold_text` as the
SQL function `visio_fold` (PostgreSQL uses `translate(lower(x), ACCENTED, PLAIN)` instead).
"""

from __future__ import annotations

_LOWER = "àáâãäåāăąçćčďèéêëēėęěìíîïīįłñńňòóôõöøōőŕřśšşťùúûüūůűýÿźżž"
_LOWER_PLAIN = "aaaaaaaaacccdeeeeeeeeiiiiiilnnnoooooooorrssstuuuuuuuyyzzz"
# Upper-case accented letters are listed too: SQL lower() may be ASCII-only (C locale).
ACCENTED = _LOWER + _LOWER.upper()
PLAIN = _LOWER_PLAIN + _LOWER_PLAIN
_TABLE = str.maketrans(ACCENTED, PLAIN)


def folded_sql(column: str) -> str:
    """`fold_text` of a column in PostgreSQL's SQL: the listings sort by it, and an index holds
    it (the same expression, or PostgreSQL would not use the index)."""
    return f"translate(lower({column}), '{ACCENTED}', '{PLAIN}')"


def fold_text(value: str | None) -> str:
    """Lower-cased, common Latin accents removed: what search compares."""
    return (value or "").lower().translate(_TABLE)
