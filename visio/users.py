"""Accounts made by an operator: the first teacher of a real deployment, for one.

    python -m visio.users create --role teacher --email ana@school.example --name "Ana Ruiz"

The password is asked twice on the terminal, or read from VISIO_NEW_PASSWORD (for scripts). The
account obeys the same rules as one made on /register (password strength included).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from visio.db import open_db
from visio.i18n import error_message
from visio.models import Role
from visio.services import accounts
from visio.services.errors import DomainError


def _password() -> str:
    given = os.environ.get("VISIO_NEW_PASSWORD")
    if given:
        return given
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise SystemExit("The two passwords differ: nothing was created.")
    return first


def create(*, role: str, email: str, name: str, password: str) -> str:
    """Create the account; the line to print (what was done, or why not)."""
    with open_db() as db:
        if accounts.is_registered(db=db, email=email):
            raise SystemExit(f"{email} already has an account: nothing was created.")
        try:
            made = accounts.register(
                db=db,
                full_name=name,
                email=email,
                password=password,
                role=role,
                address=None,
                verified=True,  # an operator vouches for the address
            )
        except DomainError as error:
            raise SystemExit(error_message(error.code, "en", error.params)) from None
    if made.user is None:  # taken meanwhile
        raise SystemExit(f"{email} already has an account: nothing was created.")
    return f"Created the {made.role} account {made.email} ({made.full_name})."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m visio.users")
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("create", help="create an account")
    made.add_argument("--role", choices=[Role.TEACHER.value, Role.STUDENT.value], required=True)
    made.add_argument("--email", required=True)
    made.add_argument("--name", required=True)
    args = parser.parse_args(argv)
    print(create(role=args.role, email=args.email, name=args.name, password=_password()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
