"""The backup archive's reader refuses what could escape its staging folder or lie about its
contents; database URLs are understood without leaking their password to a command line."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from visio.backup import BackupError
from visio.backup import databases as backup_databases
from visio.backup.archive import MANIFEST, Entry, Manifest, unpack


def entry(name: str, data: bytes) -> Entry:
    return Entry(name, len(data), hashlib.sha256(data).hexdigest())


def build(path: Path, members: list[tuple[str, bytes]], *, manifest: Manifest | None) -> Path:
    """A gzipped tar with these regular members, then the manifest (if any)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if manifest is not None:
            raw = manifest.to_json()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return path


DB = b"SQLite format 3\x00" + b"\x00" * 200
FILE = b"%PDF-1.4 slides"


def manifest_for(files: list[Entry]) -> Manifest:
    return Manifest(
        created_at="2026-11-29 15:30:00 UTC",
        database_kind="sqlite",
        alembic_revision="0009",
        database=entry("database.sqlite3", DB),
        files=files,
    )


def test_a_sound_archive_is_read_back_with_its_files(tmp_path):
    name = "0f" * 16
    archive = build(
        tmp_path / "ok.tar.gz",
        [("database.sqlite3", DB), (f"files/{name}", FILE)],
        manifest=manifest_for([entry(name, FILE)]),
    )
    into = tmp_path / "out"
    into.mkdir()

    manifest = unpack(archive, into)

    assert manifest.alembic_revision == "0009"
    assert (into / "files" / name).read_bytes() == FILE
    assert (into / "database.sqlite3").read_bytes() == DB


@pytest.mark.parametrize(
    "member", ["../evil", "files/../../evil", "/etc/evil", "files/.hidden", "other/x"]
)
def test_a_member_outside_the_staging_folder_is_refused(tmp_path, member):
    archive = build(
        tmp_path / "evil.tar.gz",
        [("database.sqlite3", DB), (member, b"x")],
        manifest=manifest_for([]),
    )
    into = tmp_path / "out"
    into.mkdir()

    with pytest.raises(BackupError, match="unexpected member"):
        unpack(archive, into)
    assert not (tmp_path / "evil").exists()


def test_a_link_member_is_refused(tmp_path):
    archive = tmp_path / "link.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("files/" + "ab" * 16)
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)

    with pytest.raises(BackupError, match="unexpected member"):
        unpack(archive, None)


def test_a_manifest_naming_a_path_is_refused(tmp_path):
    bad = manifest_for([Entry("../../etc/passwd", 1, "0" * 64)])
    archive = build(tmp_path / "m.tar.gz", [("database.sqlite3", DB)], manifest=bad)

    with pytest.raises(BackupError, match="names a file outside the storage folder"):
        unpack(archive, None)


def test_an_archive_without_a_manifest_or_with_an_unlisted_file_is_refused(tmp_path):
    without = build(tmp_path / "a.tar.gz", [("database.sqlite3", DB)], manifest=None)
    with pytest.raises(BackupError, match="has no manifest"):
        unpack(without, None)

    extra = build(
        tmp_path / "b.tar.gz",
        [("database.sqlite3", DB), ("files/" + "cd" * 16, FILE)],
        manifest=manifest_for([]),
    )
    with pytest.raises(BackupError, match="is not in its manifest"):
        unpack(extra, None)


def test_a_newer_format_is_refused_with_its_number(tmp_path):
    archive = tmp_path / "future.tar.gz"
    raw = manifest_for([]).to_json().replace(b'"format": 1', b'"format": 2')
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in (("database.sqlite3", DB), (MANIFEST, raw)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    with pytest.raises(BackupError, match="format 2; this code reads format 1"):
        unpack(archive, None)


def test_the_password_goes_to_the_environment_not_the_command_line():
    conninfo, env = backup_databases._libpq(
        "postgresql+psycopg://visio:s3cret@db.internal:5433/visio?sslmode=require"
    )
    assert "s3cret" not in conninfo
    assert conninfo == "postgresql://visio@db.internal:5433/visio?sslmode=require"
    assert env["PGPASSWORD"] == "s3cret"
    assert "s3cret" not in backup_databases.describe("postgresql://visio:s3cret@h/visio")


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://u@h/visio", "support SQLite and PostgreSQL, not 'mysql'"),
        ("not a url", "is not a database URL"),
    ],
)
def test_other_databases_are_refused_with_a_message(url, message):
    with pytest.raises(BackupError, match=message):
        backup_databases.kind_of(url)


def test_an_in_memory_sqlite_database_cannot_be_backed_up(tmp_path):
    with pytest.raises(BackupError, match="SQLite database in a file"):
        backup_databases.require_empty("sqlite", "sqlite://")
