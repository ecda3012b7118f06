"""The backup archive: a gzipped tar of the database copy, the material files and a manifest.

Members, in this order: `database.sqlite3` or `database.pgdump`, `files/<storage name>` for each
material file, then `manifest.json` (format version, database kind, Alembic revision, and the
size and sha256 of every other member). Reading streams the archive once into a staging folder
and compares what it found with the manifest: a damaged or altered archive is refused before
anything outside that folder is touched.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, NamedTuple

FORMAT = 1
MANIFEST = "manifest.json"
FILES = "files"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Stored files get random hex names (materials.add_file); nothing else may become a path.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_MANIFEST_MAX = 16 * 1024 * 1024
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or a restore refused or failed; the message says why and what to do."""


class Entry(NamedTuple):
    """One member of the archive: its name (a storage name for files), size and sha256."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What an archive holds, written last into it."""

    created_at: str
    database_kind: str
    alembic_revision: str
    database: Entry
    files: list[Entry]
    # Files the database refers to that were already gone from the storage folder.
    missing_files: list[str] = field(default_factory=list)
    format: int = FORMAT

    def to_json(self) -> bytes:
        data = asdict(self)
        data["database"] = self.database._asdict()
        data["files"] = [entry._asdict() for entry in self.files]
        return json.dumps(data, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        """The manifest, or BackupError if it is not one this code can read."""
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT:
                raise BackupError(
                    f"This backup has format {data.get('format')!r}; this code reads format "
                    f"{FORMAT} only."
                )
            manifest = cls(
                created_at=str(data["created_at"]),
                database_kind=str(data["database_kind"]),
                alembic_revision=str(data["alembic_revision"]),
                database=_entry(data["database"]),
                files=[_entry(item) for item in data["files"]],
                missing_files=[str(name) for name in data.get("missing_files", [])],
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise damaged("its manifest cannot be read") from None
        if manifest.database_kind not in DATABASE_MEMBERS:
            raise damaged(f"unknown database kind {manifest.database_kind!r}")
        if manifest.database.name != DATABASE_MEMBERS[manifest.database_kind]:
            raise damaged("its manifest names another database member")
        if not all(SAFE_NAME.fullmatch(entry.name) for entry in manifest.files):
            raise damaged("its manifest names a file outside the storage folder")
        return manifest

    def members(self) -> dict[str, Entry]:
        """Every member the archive must hold besides the manifest, by member name."""
        found = {self.database.name: self.database}
        found.update({f"{FILES}/{entry.name}": entry for entry in self.files})
        return found

    @property
    def total_bytes(self) -> int:
        return self.database.size + sum(entry.size for entry in self.files)


def _entry(data: dict) -> Entry:
    size, sha = int(data["size"]), str(data["sha256"])
    if size < 0 or not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise ValueError(sha)
    return Entry(str(data["name"]), size, sha)


def damaged(why: str) -> BackupError:
    return BackupError(
        f"The archive is damaged or not a Visio backup ({why}): nothing was restored."
    )


class _Hashing:
    """A reader that hashes and counts what passes through it."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source, self.sha, self.count = source, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.source.read(size)
        self.sha.update(chunk)
        self.count += len(chunk)
        return chunk


class Writer:
    """Adds members to an archive being written (`open_archive`), hashing what it adds."""

    def __init__(self, tar: tarfile.TarFile) -> None:
        self._tar = tar

    def add(self, name: str, source: IO[bytes], size: int) -> Entry:
        """Copy `size` bytes of `source` into the member `name`; its size and sha256."""
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o640, int(time.time())
        reader = _Hashing(source)
        self._tar.addfile(info, reader)  # reads exactly `size` bytes, or raises
        return Entry(name.rpartition("/")[2], size, reader.sha.hexdigest())

    def add_path(self, name: str, path: Path) -> Entry:
        with path.open("rb") as source:
            return self.add(name, source, os.fstat(source.fileno()).st_size)

    def add_bytes(self, name: str, data: bytes) -> None:
        self.add(name, io.BytesIO(data), len(data))


def open_archive(path: Path) -> tarfile.TarFile:
    """A new gzipped tar at `path` (a temporary name: the caller publishes it once complete),
    readable by its owner only: it holds personal data and password hashes."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return tarfile.open(path, "w:gz", compresslevel=6, format=tarfile.PAX_FORMAT)


def unpack(archive: Path, into: Path | None, *, kind: str | None = None) -> Manifest:
    """Stream `archive` into the folder `into` (None: only read it) and check it against its
    manifest. With `kind`, an archive of another database kind is refused at its first member.
    """
    if not archive.is_file():
        raise BackupError(f"There is no backup file at {archive}.")
    found: dict[str, Entry] = {}
    raw: bytes | None = None
    try:
        with tarfile.open(archive, "r|gz") as tar:
            for member in tar:
                if not member.isfile():
                    raise damaged(f"unexpected member {member.name!r}")
                if member.name == MANIFEST:
                    if member.size > _MANIFEST_MAX:
                        raise damaged("its manifest is too large")
                    raw = tar.extractfile(member).read()  # type: ignore[union-attr]
                    continue
                target = _member_path(into, member.name, first=not found, kind=kind)
                if member.name in found:
                    raise damaged(f"{member.name!r} appears twice")
                found[member.name] = _extract(tar, member, target)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError):
        raise damaged("it cannot be read to its end") from None
    if raw is None:
        raise damaged("it has no manifest")
    manifest = Manifest.from_json(raw)
    expected = manifest.members()
    for name, entry in expected.items():
        got = found.get(name)
        if got is None:
            raise damaged(f"{name} is missing")
        if (got.size, got.sha256) != (entry.size, entry.sha256):
            raise damaged(f"{name} does not match its checksum")
    extra = set(found) - set(expected)
    if extra:
        raise damaged(f"{sorted(extra)[0]} is not in its manifest")
    return manifest


def _member_path(into: Path | None, name: str, *, first: bool, kind: str | None) -> Path | None:
    """Where a member is staged; only the database and `files/<safe name>` are accepted."""
    if name in DATABASE_MEMBERS.values():
        if not first:
            raise damaged("its database is not its first member")
        found = next(k for k, member in DATABASE_MEMBERS.items() if member == name)
        if kind is not None and found != kind:
            raise BackupError(
                f"This is a backup of a {KIND_NAMES[found]} database; the target database is "
                f"{KIND_NAMES[kind]}. Restore it into a {KIND_NAMES[found]} database "
                "(set REFLEX_DB_URL): nothing was restored."
            )
        return None if into is None else into / name
    folder, _, base = name.partition("/")
    if folder != FILES or not SAFE_NAME.fullmatch(base) or first:
        raise damaged(f"unexpected member {name!r}")
    if into is None:
        return None
    (into / FILES).mkdir(exist_ok=True)
    return into / FILES / base


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path | None) -> Entry:
    """Copy a member to `target` (None: only read it), hashing it on the way."""
    source = tar.extractfile(member)
    assert source is not None  # a regular file
    reader = _Hashing(source)
    if target is None:
        while reader.read(_CHUNK):
            pass
    else:
        with target.open("xb") as out:
            shutil.copyfileobj(reader, out, _CHUNK)  # type: ignore[misc]
    return Entry(member.name.rpartition("/")[2], reader.count, reader.sha.hexdigest())


def sha256_of(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
    sha = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()
