"""The one error type of the domain.

A `DomainError` carries a stable machine-readable `code`, the `field` it is about (for forms) and
the parameters its message needs. The message itself comes from the i18n catalog
(`error.<code>`); the API maps each subclass to an HTTP status in one table.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refused use case. Nothing was changed when one is raised."""

    default_code = "domain_error"

    def __init__(self, code: str | None = None, *, field: str | None = None, **params: Any) -> None:
        self.code = code or self.default_code
        self.field = field
        self.params = params
        super().__init__(self.code)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, field={self.field!r}, **{self.params!r})"


class InvalidInput(DomainError):
    """A value breaks a rule (too long, out of range, malformed...)."""

    default_code = "invalid_input"


class NotAuthenticated(DomainError):
    default_code = "not_authenticated"


class InvalidCredentials(DomainError):
    """Wrong email or password: the same error whether the email exists or not."""

    default_code = "invalid_credentials"


class Throttled(DomainError):
    default_code = "too_many_attempts"


class Forbidden(DomainError):
    """The caller may not do this (wrong role, not the owner, not enrolled)."""

    default_code = "forbidden"


class NotFound(DomainError):
    default_code = "not_found"


class Conflict(DomainError):
    """The request is valid but the current state refuses it (full, already enrolled...)."""

    default_code = "conflict"


class InsufficientFunds(DomainError):
    default_code = "insufficient_funds"


class PaymentFailed(DomainError):
    """The payment provider refused or failed: nothing was credited."""

    default_code = "payment_failed"


class Busy(DomainError):
    """A lock could not be taken in time: try again."""

    default_code = "busy"
