"""What the app checks before it serves: a production deployment never runs on demo money.

With VISIO_ENV=production, Visio refuses to start with the `demo` payment provider (it credits
anyone any amount) or with the demo accounts in its database (their password is in the README),
unless VISIO_ALLOW_DEMO=true says that this production is a public demonstration.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from visio.db import open_db
from visio.demo import DEMO_DOMAIN
from visio.services import accounts
from visio.settings import Settings, settings


class StartupRefused(SystemExit):
    """The configuration is unsafe for production: the message says what to change."""

    def __init__(self, problems: list[str]) -> None:
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Visio refuses to start with VISIO_ENV=production:\n{lines}")


def production_problems(config: Settings, *, demo_accounts: bool) -> list[str]:
    """Why this configuration must not serve real users (empty: it may)."""
    if not config.is_production or config.allow_demo:
        return []
    problems = []
    if config.payment_provider == "demo":
        problems.append(
            "VISIO_PAYMENT_PROVIDER is `demo`, which credits any amount to anyone: name the "
            "real provider (or set VISIO_ALLOW_DEMO=true for a public demonstration)"
        )
    if demo_accounts:
        problems.append(
            "the database holds the demo accounts, whose password is public: remove them, or "
            "use another database (or set VISIO_ALLOW_DEMO=true for a public demonstration)"
        )
    return problems


def check(config: Settings = settings) -> None:
    """Raise StartupRefused when production would start unsafely; nothing in development."""
    if not config.is_production:
        return
    try:
        with open_db() as db:
            found = accounts.emails_in_domain(db=db, domain=DEMO_DOMAIN)
    except SQLAlchemyError as error:
        first_line = str(getattr(error, "orig", error)).strip().splitlines()[0]
        raise StartupRefused(
            [f"the database cannot be read ({first_line}): is it migrated? (`make migrate`)"]
        ) from None
    problems = production_problems(config, demo_accounts=found)
    if problems:
        raise StartupRefused(problems)
