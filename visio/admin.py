"""Admin accounts, made by an operator (registering never makes one):

    python -m visio.admin create --email root@school.example [--name "Ana Ruiz"]

The password is asked twice on the terminal, or read from VISIO_NEW_PASSWORD (for scripts). The
address counts as verified. An email that already has an account is left as it is.
"""

from __future__ import annotations

import argparse
import sys

from visio.db import open_db
from visio.i18n import error_message
from visio.services import accounts, admins
from visio.services.errors import DomainError
from visio.users import _password

DEFAULT_NAME = "Admin"


def create(*, email: str, name: str, password: str) -> str:
    """Create the admin account; the line to print (what was done), or SystemExit (why not)."""
    with open_db() as db:
        if accounts.is_registered(db=db, email=email):
            raise SystemExit(f"{email} already has an account: nothing was changed.")
        try:
            made = admins.create_admin(db=db, email=email, full_name=name, password=password)
        except DomainError as error:
            if error.code == "email_taken":
                raise SystemExit(f"{email} already has an account: nothing was changed.") from None
            raise SystemExit(error_message(error.code, "en", error.params)) from None
    return f"Created the admin account {made.email} ({made.full_name})."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m visio.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("create", help="create an admin account")
    made.add_argument("--email", required=True)
    made.add_argument("--name", default="")
    args = parser.parse_args(argv)
    email = accounts.normalize_email(args.email)
    with open_db() as db:  # said before the password is asked
        if accounts.is_registered(db=db, email=email):
            raise SystemExit(f"{email} already has an account: nothing was changed.")
    print(create(email=email, name=args.name.strip() or DEFAULT_NAME, password=_password()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
