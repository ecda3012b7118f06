"""Backups and restore of a Visio installation: its database and its uploaded material files.

    python -m visio.backup create          # data/backups/visio-2026-11-29T153000Z.tar.gz
    python -m visio.backup verify FILE     # read it all and check every checksum
    python -m visio.backup restore FILE    # into an empty database only

`make backup` and `make restore FILE=...` run these. A backup is taken while the app runs: SQLite
through its online backup API, PostgreSQL through pg_dump; see jobs.py for how the material files
stay consistent with the database copy.
"""

from visio.backup.archive import BackupError, Manifest
from visio.backup.jobs import Created, Restored, create_backup, restore_backup, verify_backup

__all__ = [
    "BackupError",
    "Created",
    "Manifest",
    "Restored",
    "create_backup",
    "restore_backup",
    "verify_backup",
]
