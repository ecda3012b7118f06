"""Payment providers: where top-up money comes from.

The `demo` provider credits at once (the default configuration). A production deployment names
another provider in VISIO_PAYMENT_PROVIDER and registers it with `register_provider`.
"""

from __future__ import annotations

import secrets
from typing import Protocol

from visio.services.errors import InvalidInput, PaymentFailed


class PaymentProvider(Protocol):
    name: str

    def charge(self, *, user_id: int, amount_cents: int, currency: str) -> str:
        """Take the money; return the provider's reference, or raise `PaymentFailed`."""
        ...


class DemoProvider:
    """Accepts every charge: for demos and tests of the happy path."""

    name = "demo"

    def charge(self, *, user_id: int, amount_cents: int, currency: str) -> str:
        return f"demo_{secrets.token_hex(8)}"


class DecliningProvider:
    """Declines every charge: shows what users see when a provider fails."""

    name = "declining"

    def charge(self, *, user_id: int, amount_cents: int, currency: str) -> str:
        raise PaymentFailed(provider=self.name)


_PROVIDERS: dict[str, PaymentProvider] = {p.name: p for p in (DemoProvider(), DecliningProvider())}


def register_provider(provider: PaymentProvider) -> None:
    _PROVIDERS[provider.name] = provider


def get_provider(name: str) -> PaymentProvider:
    try:
        return _PROVIDERS[name]
    except KeyError:
        raise InvalidInput("payment_provider_unknown", provider=name) from None
