"""Create, verify and restore backups: the database copy and the material files it refers to.

Consistency: a stored file is written before its row is committed, deleted only after its row's
deletion is committed, and never changes in between. At the moment the database copy shows (a
read transaction on SQLite, an exported snapshot on PostgreSQL), before the copy is made, every
file it refers to is hard-linked into a hidden staging folder inside the storage folder: a file
deleted afterwards stays readable there until the archive is written. So the archive holds
exactly the files the database copy refers to. A file already missing at that moment was lost
before the backup (or deleted in the instant between the copy's moment and its link: the
backup is then taken again); it is listed in the manifest and reported, never invented.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from visio.backup import databases
from visio.backup.archive import (
    DATABASE_MEMBERS,
    FILES,
    KIND_NAMES,
    MANIFEST,
    SAFE_NAME,
    BackupError,
    Entry,
    Manifest,
    Writer,
    open_archive,
    sha256_of,
    unpack,
)
from visio.settings import ROOT, settings

ATTEMPTS = 3


class _Stage:
    """Hard links (copies across file systems) of the stored files a database copy refers to."""

    def __init__(self, storage_dir: Path, fallback: Path) -> None:
        self.storage_dir, self.fallback = storage_dir, fallback
        self.folder: Path | None = None
        self.missing: list[str] = []

    def __enter__(self) -> _Stage:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def hold(self, names: list[str]) -> None:
        for name in names:
            source = self.storage_dir / name
            if not SAFE_NAME.fullmatch(name) or not source.is_file():
                self.missing.append(name)
                continue
            try:
                self._keep(source, self._folder() / name)
            except FileNotFoundError:  # deleted since is_file(): its row is gone after the moment
                self.missing.append(name)

    def path(self, name: str) -> Path:
        assert self.folder is not None
        return self.folder / name

    def _folder(self) -> Path:
        if self.folder is None:
            try:  # among the files: on their file system, so that a link is enough
                self.folder = Path(tempfile.mkdtemp(dir=self.storage_dir, prefix=".visio-backup-"))
            except OSError:
                self.folder = Path(tempfile.mkdtemp(dir=self.fallback, prefix="stage-"))
        return self.folder

    @staticmethod
    def _keep(source: Path, target: Path) -> None:
        try:
            os.link(source, target)
        except FileNotFoundError:
            raise
        except OSError:  # no hard links here: a copy (an open file stays readable if deleted)
            with source.open("rb") as data, target.open("xb") as out:
                shutil.copyfileobj(data, out, 1024 * 1024)


@dataclass(frozen=True)
class Created:
    """A backup that was written, and what it holds."""

    path: Path
    manifest: Manifest

    def report(self) -> str:
        m = self.manifest
        lines = [
            f"Backup written: {self.path}",
            f"  {KIND_NAMES[m.database_kind]} database at revision {m.alembic_revision}, "
            f"{len(m.files)} material files, {_size(self.path.stat().st_size)} compressed.",
        ]
        if m.missing_files:
            lines.append(_missing_line(m.missing_files))
        return "\n".join(lines)


@dataclass(frozen=True)
class Restored:
    """A restore that was done: what went where, and what the operator does next."""

    archive: Path
    manifest: Manifest
    target: str
    storage_dir: Path
    code_head: str | None
    revision_known: bool

    @property
    def needs_upgrade(self) -> bool:
        return self.revision_known and self.manifest.alembic_revision != self.code_head

    def report(self) -> str:
        m = self.manifest
        lines = [
            f"Restored {self.archive} (taken {m.created_at}) into {self.target}:",
            f"  the database at revision {m.alembic_revision}, "
            f"{len(m.files)} material files into {self.storage_dir}.",
        ]
        if m.missing_files:
            lines.append(_missing_line(m.missing_files))
        if not self.revision_known:
            lines.append(
                f"This code does not know revision {m.alembic_revision} (a backup from a newer "
                "version of Visio): run that version with it, not this one."
            )
        elif self.needs_upgrade:
            lines.append(
                f"This code is at revision {self.code_head}: run `make migrate` (alembic "
                "upgrade head) before starting Visio."
            )
        else:
            lines.append("The database is at this code's revision: Visio can start on it.")
        return "\n".join(lines)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.1f} KB"


def _missing_line(names: list[str]) -> str:
    return (
        f"  Warning: {len(names)} material files the database refers to were already missing "
        f"from the storage folder: {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}"
    )


def create_backup(
    *,
    db_url: str | None = None,
    storage_dir: Path | None = None,
    backup_dir: Path | None = None,
    now: datetime | None = None,
) -> Created:
    """Write a backup of the running database and its material files under `backup_dir`."""
    db_url = db_url or settings.db_url
    storage_dir = storage_dir or settings.storage_dir
    backup_dir = backup_dir or settings.backup_dir
    kind = databases.kind_of(db_url)
    backup_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    taken = (now or datetime.now(UTC)).astimezone(UTC)
    # A dot-folder beside the backups: a half-written archive never bears a backup's name.
    with tempfile.TemporaryDirectory(dir=backup_dir, prefix=".visio-backup-") as work:
        for attempt in range(1, ATTEMPTS + 1):
            partial = Path(work) / f"attempt-{attempt}.tar.gz"
            copy = Path(work) / f"attempt-{attempt}-{DATABASE_MEMBERS[kind]}"
            with _Stage(storage_dir, Path(work)) as stage:
                shot = databases.snapshot(kind, db_url, copy, hold=stage.hold)
                if stage.missing and attempt < ATTEMPTS:
                    copy.unlink()
                    continue  # most likely deleted in the instant after the moment: again
                manifest = _write(partial, kind, shot, stage, taken)
                copy.unlink()
            return Created(_publish(partial, backup_dir, taken), manifest)
    raise AssertionError("unreachable")


def _write(
    partial: Path, kind: str, shot: databases.Snapshot, stage: _Stage, taken: datetime
) -> Manifest:
    files: list[Entry] = []
    with open_archive(partial) as tar:
        writer = Writer(tar)
        database = writer.add_path(DATABASE_MEMBERS[kind], shot.path)
        for name in shot.storage_names:
            if name not in stage.missing:
                files.append(writer.add_path(f"{FILES}/{name}", stage.path(name)))
        manifest = Manifest(
            created_at=taken.strftime("%Y-%m-%d %H:%M:%S UTC"),
            database_kind=kind,
            alembic_revision=shot.revision,
            database=database,
            files=files,
            missing_files=list(stage.missing),
        )
        writer.add_bytes(MANIFEST, manifest.to_json())
    return manifest


def _publish(partial: Path, backup_dir: Path, taken: datetime) -> Path:
    """Give the finished archive its dated name, never replacing another backup."""
    with partial.open("rb") as done:
        os.fsync(done.fileno())
    stamp = taken.strftime("%Y-%m-%dT%H%M%SZ")
    for n in range(1, 100):
        final = backup_dir / (f"visio-{stamp}.tar.gz" if n == 1 else f"visio-{stamp}-{n}.tar.gz")
        try:
            os.link(partial, final)  # atomic, and fails rather than overwrite
        except FileExistsError:
            continue
        _fsync_dir(backup_dir)
        return final
    raise BackupError(f"Too many backups named visio-{stamp}*.tar.gz in {backup_dir}.")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def verify_backup(archive: Path) -> Manifest:
    """Read a whole backup and check it against its manifest; nothing is written."""
    return unpack(archive, None)


def restore_backup(
    archive: Path, *, db_url: str | None = None, storage_dir: Path | None = None
) -> Restored:
    """Restore a backup into an empty database and its material files into the storage folder.

    The target is checked to be empty and the archive verified before anything is written;
    files go first (an orphan file is harmless, a row without its file is not), then the database.
    """
    db_url = db_url or settings.db_url
    storage_dir = storage_dir or settings.storage_dir
    kind = databases.kind_of(db_url)
    if not archive.is_file():
        raise BackupError(f"There is no backup file at {archive}.")
    databases.require_empty(kind, db_url)
    with tempfile.TemporaryDirectory(
        dir=_staging_parent(storage_dir), prefix=".visio-restore-"
    ) as work:
        staged = Path(work)
        manifest = unpack(archive, staged, kind=kind)
        _check_storage(manifest, storage_dir)
        databases.require_empty(kind, db_url)  # again: unpacking may have taken a while
        storage_dir.mkdir(parents=True, exist_ok=True)
        for entry in manifest.files:
            _place(staged / FILES / entry.name, storage_dir / entry.name)
        databases.restore(kind, staged / manifest.database.name, db_url)
    head, known = _code_revisions()
    return Restored(
        archive=archive,
        manifest=manifest,
        target=databases.describe(db_url),
        storage_dir=storage_dir,
        code_head=head,
        revision_known=manifest.alembic_revision in known,
    )


def _staging_parent(storage_dir: Path) -> Path | None:
    """Beside the storage folder if possible, so that placing a file is a link, not a copy."""
    try:
        storage_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return storage_dir.parent if os.access(storage_dir.parent, os.W_OK) else None


def _check_storage(manifest: Manifest, storage_dir: Path) -> None:
    """Refuse if the storage folder holds another file under a name the backup uses."""
    for entry in manifest.files:
        existing = storage_dir / entry.name
        if existing.exists() and sha256_of(existing) != entry.sha256:
            raise BackupError(
                f"{storage_dir} already holds a different file named {entry.name}: restore "
                "into an empty storage folder (VISIO_STORAGE_DIR). Nothing was restored."
            )


def _place(staged: Path, target: Path) -> None:
    if target.exists():  # the same bytes (checked above): a restore that was retried
        return
    staged.chmod(0o640)
    try:
        os.link(staged, target)
    except OSError:  # another file system: copy under a temporary name, then link
        temporary = target.with_name(f".{target.name}.restoring")
        with staged.open("rb") as source, temporary.open("wb") as out:
            while chunk := source.read(1024 * 1024):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.link(temporary, target)
        temporary.unlink()


def _code_revisions() -> tuple[str | None, set[str]]:
    """This code's Alembic head and every revision it knows."""
    script = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini")))
    return script.get_current_head(), {rev.revision for rev in script.walk_revisions()}
