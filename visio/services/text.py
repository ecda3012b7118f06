"""Text people read: no characters that hide or reorder what is shown.

Zero-width characters and invisible fillers make two names look alike (or a name look empty);
bidi controls reorder what follows them (a title that reads backwards, a "gpj.exe" shown as
"exe.jpg"). Titles, names and tags refuse them.
"""

from __future__ import annotations

from visio.services.errors import InvalidInput

HIDDEN = frozenset(
    [
        0x00AD,  # soft hyphen
        0x034F,  # combining grapheme joiner
        0x061C,  # arabic letter mark
        0x115F,
        0x1160,
        0x3164,
        0xFFA0,  # hangul fillers (shown as nothing)
        0x180E,  # mongolian vowel separator
        *range(0x200B, 0x2010),  # zero-width space, non-joiner, joiner; LRM, RLM
        *range(0x202A, 0x202F),  # bidi embeddings and overrides
        *range(0x2060, 0x2065),  # word joiner, invisible operators
        *range(0x2066, 0x206A),  # bidi isolates
        0xFEFF,  # zero-width no-break space
        *range(0xE0000, 0xE0080),  # tag characters
    ]
)


def hidden_characters(text: str) -> list[str]:
    """The hidden or reordering characters in `text`, as U+XXXX, in order of appearance."""
    return [f"U+{ord(ch):04X}" for ch in text if ord(ch) in HIDDEN]


def check_visible(text: str, *, field: str) -> str:
    """`text` if every character in it shows as itself; InvalidInput otherwise."""
    found = hidden_characters(text)
    if found:
        raise InvalidInput("text_hidden_characters", field=field, chars=", ".join(found[:3]))
    return text
