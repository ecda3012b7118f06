"""Password hashing (argon2 through passlib) and the weak-password rule."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from passlib.context import CryptContext

from visio.settings import settings

MIN_LENGTH = 10
MAX_LENGTH = 256


@lru_cache(maxsize=1)
def _context() -> CryptContext:
    return CryptContext(
        schemes=["argon2"],
        argon2__time_cost=settings.argon2_time_cost,
        argon2__memory_cost=settings.argon2_memory_kib,
    )


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text().splitlines() if line.strip())


def hash_password(password: str) -> str:
    return _context().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
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
    if lowered in _common_passwords() or len(set(lowered)) <= 2:
        return "password_common"
    local_part = email.split("@", 1)[0].lower()
    if lowered in {email.lower(), local_part, full_name.lower().replace(" ", "")}:
        return "password_like_identity"
    return None
