"""Password hashing (argon2 through passlib) and the weak-password rule."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from passlib.context import CryptContext
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from visio.services.errors import Busy
from visio.settings import settings

MIN_LENGTH = 10
MAX_LENGTH = 256  # for logins too: a longer one is refused before any hashing
# zxcvbn's estimate: 3 = "safely unguessable" (about 10^10 guesses). It is slow on long inputs
# and refuses over 72 characters: a longer password is judged on its first 72.
MIN_SCORE = 3
SCORED_LENGTH = 72
_LEET = str.maketrans("0134579@$!|+", "oieastgasilt")
_EDGE_JUNK = re.compile(r"^[\W\d_]+|[\W\d_]+$")
# Hashes computed at once in this worker: argon2 takes VISIO_ARGON2_MEMORY_KIB for each.
_hashing_slots = threading.BoundedSemaphore(max(1, settings.hash_concurrency))


@lru_cache(maxsize=1)
def _context() -> CryptContext:
    return CryptContext(
        schemes=["argon2"],
        argon2__time_cost=settings.argon2_time_cost,
        argon2__memory_cost=settings.argon2_memory_kib,
    )


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """Our own list (French ones included) and zxcvbn's 30,000 most common leaked passwords."""
    path = Path(__file__).with_name("common_passwords.txt")
    ours = (line.strip().lower() for line in path.read_text().splitlines() if line.strip())
    return frozenset(ours) | frozenset(FREQUENCY_LISTS["passwords"])


@contextmanager
def _hashing_turn() -> Iterator[None]:
    """One of the worker's hashing slots, or Busy after VISIO_HASH_WAIT_SECONDS of waiting."""
    if not _hashing_slots.acquire(timeout=settings.hash_wait_seconds):
        raise Busy("busy")
    try:
        yield
    finally:
        _hashing_slots.release()


def hash_password(password: str) -> str:
    """The argon2 hash of a password (waits for one of the worker's hashing slots)."""
    with _hashing_turn():
        return _context().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether the password matches the hash (waits for one of the worker's hashing slots)."""
    with _hashing_turn():
        return _context().verify(password, password_hash)


# A fixed hash, verified against when the email is unknown so that both cases take as long.
@lru_cache(maxsize=1)
def dummy_hash() -> str:
    return hash_password("visio-no-such-user-placeholder")


def weakness(password: str, *, email: str = "", full_name: str = "") -> str | None:
    """The error code saying why a password is too weak, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return "password_too_short"
    if len(password) > MAX_LENGTH:
        return "password_too_long"
    lowered = password.lower()
    if len(set(lowered)) <= 2 or not _common_passwords().isdisjoint(_variants(lowered)):
        return "password_common"
    local_part = email.split("@", 1)[0].lower()
    if lowered in {email.lower(), local_part, full_name.lower().replace(" ", "")}:
        return "password_like_identity"
    identity = [part for part in (email, local_part, *full_name.split()) if part]
    if zxcvbn(password[:SCORED_LENGTH], user_inputs=identity)["score"] < MIN_SCORE:
        return "password_weak"
    return None


def _variants(lowered: str) -> set[str]:
    """The password as a list of common ones would hold it: "P@ssw0rd2024!" -> "password"."""
    trimmed = _EDGE_JUNK.sub("", lowered)  # the digits and symbols around a word
    leet = lowered.translate(_LEET)
    return {lowered, trimmed, leet, trimmed.translate(_LEET), _EDGE_JUNK.sub("", leet)}
