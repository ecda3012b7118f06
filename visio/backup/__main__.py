"""The command line: python -m visio.backup create | verify FILE | restore FILE.

Exit status: 0 done, 1 refused or failed (the message says why; nothing half-done is left under
a backup's name, and a refused restore wrote nothing), 2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

import psycopg

from visio.backup import BackupError, create_backup, restore_backup, verify_backup

PROG = "python -m visio.backup"
INTERRUPTED = {
    "create": "No backup was written.",
    "verify": "Nothing was changed.",
    "restore": "If the target database is no longer empty, restore into a new empty one.",
}


def _run(args: argparse.Namespace) -> str:
    if args.command == "create":
        return create_backup(backup_dir=args.dir).report()
    if args.command == "verify":
        manifest = verify_backup(args.file)
        return (
            f"{args.file} is a sound backup taken {manifest.created_at}: "
            f"{manifest.database_kind} database at revision {manifest.alembic_revision}, "
            f"{len(manifest.files)} material files; every checksum matches."
        )
    return restore_backup(args.file).report()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description="Backups of Visio's data.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="back up the database and the material files")
    create.add_argument("--dir", type=Path, help="where to write it (VISIO_BACKUP_DIR)")
    for name, text in (
        ("verify", "check a backup's every checksum"),
        ("restore", "restore a backup into an empty database (REFLEX_DB_URL)"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("file", type=Path, help="the backup, a visio-*.tar.gz file")
    args = parser.parse_args(argv)
    try:
        print(_run(args))
    except BackupError as error:
        print(f"{args.command}: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        print(f"{args.command} failed: {error.strerror or error}{where}", file=sys.stderr)
        return 1
    except (sqlite3.Error, psycopg.Error) as error:
        print(f"{args.command} failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{args.command}: interrupted. {INTERRUPTED[args.command]}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
