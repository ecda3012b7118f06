"""Backups taken while students enroll, pay and unenroll, restored into empty databases.

On SQLite (a file) and PostgreSQL: the restored database passes the ledger and seat invariants
and its material files come back byte for byte; a restore into a database that holds anything,
a damaged or altered archive, or one of the other database kind is refused and changes nothing.
The command line (`python -m visio.backup`) runs end to end as a subprocess.
"""

from __future__ import annotations

import io
import os
import random
import re
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from alembic import command
from tests.conftest import ROOT, alembic_config, sqlite_url
from tests.factories import (
    make_funded_student,
    make_session,
    make_teacher,
    table_counts,
    top_up,
)
from tests.invariants import assert_ledger_invariants, assert_seat_invariants
from visio.backup import BackupError, create_backup, restore_backup, verify_backup
from visio.backup import databases as backup_databases
from visio.db import make_engine
from visio.models import LedgerEntry, Material, User
from visio.services import enrollments, materials
from visio.services.errors import Busy, DomainError

PRICE = 1_000
CREDIT = 5_000
BUSY_RETRIES = 30


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def kind(request) -> str:
    return request.param


@pytest.fixture
def source(kind, request) -> Engine:
    """A migrated database of each kind: the one the app runs on, and the one backed up."""
    return request.getfixturevalue("engine" if kind == "sqlite" else "pg_engine")


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def blank_url(kind, tmp_path, request) -> Iterator[Callable[[], str]]:
    """Makes URLs of new, empty databases of the test's kind (PostgreSQL: dropped after)."""
    made: list[str] = []
    admin: Engine | None = None

    def make() -> str:
        nonlocal admin
        if kind == "sqlite":
            return sqlite_url(tmp_path / f"restored-{uuid.uuid4().hex[:8]}.db")
        admin_url = request.getfixturevalue("pg_admin_url")
        admin = admin or sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        name = f"visio_test_{uuid.uuid4().hex[:16]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as conn:
            for name in made:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def storage(tmp_path, monkeypatch) -> Path:
    """The app's material folder for this test."""
    folder = tmp_path / "files"
    monkeypatch.setattr(materials, "storage_root", lambda: folder)
    return folder


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n" + os.urandom(random.randint(2_000, 40_000)) + b"\n%%EOF\n"


def png_bytes() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + os.urandom(random.randint(500, 5_000))


class School:
    """A teacher's paid sessions with materials, and students with money and seats."""

    def __init__(self, engine: Engine, clock, students: int = 10) -> None:
        self.originals: dict[str, bytes] = {}  # every file ever uploaded, by storage name
        with Session(engine, expire_on_commit=False) as db:
            self.teacher = make_teacher(db, clock=clock)
            self.session_ids = [
                make_session(
                    db,
                    teacher=self.teacher,
                    clock=clock,
                    publish=True,
                    is_paid=True,
                    price_cents=PRICE,
                    capacity=4,
                ).id
                for _ in range(3)
            ]
            self.session_ids.append(
                make_session(db, teacher=self.teacher, clock=clock, publish=True, capacity=3).id
            )
            self.student_ids = [
                make_funded_student(db, clock=clock, amount_cents=CREDIT).id
                for _ in range(students)
            ]
            for i, student_id in enumerate(self.student_ids[:6]):
                enrollments.enroll(
                    db=db,
                    actor=db.get(User, student_id),
                    video_session_id=self.session_ids[i % 3],
                    clock=clock,
                )
            for i, session_id in enumerate(self.session_ids):
                self.upload(db, session_id, pdf_bytes() if i % 2 else png_bytes(), clock)

    def upload(self, db: Session, session_id: int, data: bytes, clock) -> Material:
        material = materials.add_file(
            db=db,
            actor=db.get(User, self.teacher.id),
            video_session_id=session_id,
            filename="notes.pdf" if data.startswith(b"%PDF") else "board.png",
            data=data,
            clock=clock,
        )
        self.originals[material.storage_name] = data  # type: ignore[index]
        return material


def retrying(use_case: Callable[..., object], **kwargs: object) -> object:
    """Run a use case the way a user does: "busy" means click again; refusals are answers."""
    for attempt in range(BUSY_RETRIES):
        try:
            return use_case(**kwargs)
        except Busy:
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        except DomainError:  # full, already enrolled, not enough money: an answer, not a fault
            return None
    return None


class Traffic:
    """Students enrolling, unenrolling and topping up, and the teacher adding and removing
    material files, in threads, until stopped."""

    def __init__(self, engine: Engine, school: School, clock, threads: int = 3) -> None:
        self.engine, self.school, self.clock = engine, school, clock
        self.stop = threading.Event()
        self.done = 0
        self.crashes: list[BaseException] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._students, args=(i,)) for i in range(threads)]
        self._threads.append(threading.Thread(target=self._teacher))

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        deadline = time.monotonic() + 30
        while self.done < 10 and time.monotonic() < deadline and not self.crashes:
            time.sleep(0.01)  # the backup starts once the traffic is flowing
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in self._threads), "a traffic thread hung"
        assert not self.crashes, f"traffic crashed: {self.crashes[0]!r}"

    def _count(self) -> None:
        with self._lock:
            self.done += 1

    def _students(self, seed: int) -> None:
        rng = random.Random(seed)
        try:
            with Session(self.engine, expire_on_commit=False) as db:
                while not self.stop.is_set():
                    student = db.get(User, rng.choice(self.school.student_ids))
                    session_id = rng.choice(self.school.session_ids)
                    move, clock = rng.random(), self.clock
                    if move < 0.45:
                        retrying(
                            enrollments.enroll,
                            db=db,
                            actor=student,
                            video_session_id=session_id,
                            clock=clock,
                        )
                    elif move < 0.85:
                        retrying(
                            enrollments.unenroll,
                            db=db,
                            actor=student,
                            video_session_id=session_id,
                            clock=clock,
                        )
                    else:
                        retrying(top_up, db=db, user=student, amount_cents=500, clock=clock)
                    self._count()
        except BaseException as error:  # reported by __exit__
            self.crashes.append(error)

    def _teacher(self) -> None:
        rng = random.Random(99)
        added: list[int] = []
        try:
            with Session(self.engine, expire_on_commit=False) as db:
                while not self.stop.is_set():
                    if added and rng.random() < 0.5:
                        retrying(
                            materials.remove_material,
                            db=db,
                            actor=db.get(User, self.school.teacher.id),
                            material_id=added.pop(0),
                            clock=self.clock,
                        )
                    else:
                        material = retrying(
                            self.school.upload,
                            db=db,
                            session_id=rng.choice(self.school.session_ids),
                            data=pdf_bytes(),
                            clock=self.clock,
                        )
                        if isinstance(material, Material):
                            added.append(material.id)  # type: ignore[arg-type]
                    self._count()
        except BaseException as error:
            self.crashes.append(error)


def assert_restored(url: str, storage: Path, originals: dict[str, bytes]) -> int:
    """The restored database keeps every invariant, and each file it refers to came back
    byte for byte (and no other); the number of ledger entries it holds."""
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            assert_ledger_invariants(db)
            assert_seat_invariants(db)
            names = {
                m.storage_name
                for m in db.exec(select(Material)).all()
                if m.storage_name is not None
            }
            entries = len(db.exec(select(LedgerEntry.id)).all())
    finally:
        engine.dispose()
    assert names, "the restored database refers to no material file"
    on_disk = {path.name for path in storage.iterdir()} if storage.exists() else set()
    assert on_disk == names
    for name in names:
        assert (storage / name).read_bytes() == originals[name], name
    return entries


def ledger_size(engine: Engine) -> int:
    with Session(engine) as db:
        return len(db.exec(select(LedgerEntry.id)).all())


def writes_go_on_during_each_copy(monkeypatch, traffic: Traffic) -> list[int]:
    """Each backup, once its moment is fixed and before its copy is made, waits until the
    traffic has done more: the writes prove the app is not stopped by a backup under way."""
    real_snapshot = backup_databases.snapshot
    waited: list[int] = []

    def snapshot(kind, url, dest, *, hold):
        def hold_then_wait(names):
            hold(names)
            start, deadline = traffic.done, time.monotonic() + 30
            while traffic.done < start + 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            waited.append(traffic.done - start)

        return real_snapshot(kind, url, dest, hold=hold_then_wait)

    monkeypatch.setattr(backup_databases, "snapshot", snapshot)
    return waited


def test_backups_taken_during_enrollments_restore_into_sound_databases(
    source, storage, blank_url, clock, tmp_path, monkeypatch
):
    school = School(source, clock)
    backups = tmp_path / "backups"
    taken = []
    with Traffic(source, school, clock) as traffic:
        waited = writes_go_on_during_each_copy(monkeypatch, traffic)
        before = ledger_size(source)
        for _ in range(3):
            taken.append(
                create_backup(db_url=url_of(source), storage_dir=storage, backup_dir=backups)
            )
    # A copy is made again when the teacher removed a file in the instant after its moment,
    # so there may be more copies than backups; every one of them let the traffic go on.
    assert len(waited) >= 3 and min(waited) >= 5, f"the traffic stalled during a backup: {waited}"
    after = ledger_size(source)
    assert after > before, "the ledger did not move during the backups"

    assert len({c.path for c in taken}) == 3  # three archives, none overwritten
    assert sorted(p.name for p in backups.iterdir()) == sorted(c.path.name for c in taken)
    for created in taken:
        assert re.fullmatch(r"visio-\d{4}-\d\d-\d\dT\d{6}Z(-\d+)?\.tar\.gz", created.path.name)
        assert created.manifest.missing_files == []
        target, files = blank_url(), tmp_path / f"restored-{created.path.stem}"
        restored = restore_backup(created.path, db_url=target, storage_dir=files)
        assert not restored.needs_upgrade
        entries = assert_restored(target, files, school.originals)
        assert before <= entries <= after  # one moment of the run


def test_restore_into_a_database_that_holds_anything_is_refused_and_changes_nothing(
    source, storage, clock, tmp_path
):
    school = School(source, clock, students=3)
    created = create_backup(db_url=url_of(source), storage_dir=storage, backup_dir=tmp_path / "b")
    with Session(source) as db:
        before = table_counts(db)
    files_before = sorted(p.name for p in storage.iterdir())

    with pytest.raises(BackupError, match="is not empty"):
        restore_backup(created.path, db_url=url_of(source), storage_dir=storage)

    with Session(source) as db:
        assert table_counts(db) == before
        assert_ledger_invariants(db)
    assert sorted(p.name for p in storage.iterdir()) == files_before
    assert set(files_before) == set(school.originals)


def test_a_migrated_but_empty_database_is_not_empty_enough(
    source, storage, blank_url, clock, tmp_path
):
    School(source, clock, students=2)
    created = create_backup(db_url=url_of(source), storage_dir=storage, backup_dir=tmp_path / "b")
    target = blank_url()
    command.upgrade(alembic_config(target), "head")  # `make migrate` by mistake: tables, no rows

    with pytest.raises(BackupError, match="never overwrites data"):
        restore_backup(created.path, db_url=target, storage_dir=tmp_path / "restored")
    assert not (tmp_path / "restored").exists()


def test_a_storage_folder_holding_another_file_of_the_same_name_is_refused(
    engine, storage, clock, tmp_path
):
    school = School(engine, clock, students=2)
    created = create_backup(db_url=url_of(engine), storage_dir=storage, backup_dir=tmp_path / "b")
    restored_files = tmp_path / "restored"
    restored_files.mkdir()
    clash = restored_files / sorted(school.originals)[0]
    clash.write_bytes(b"someone else's file")
    target = tmp_path / "target.db"

    with pytest.raises(BackupError, match="already holds a different file named"):
        restore_backup(created.path, db_url=sqlite_url(target), storage_dir=restored_files)
    assert clash.read_bytes() == b"someone else's file"
    assert [p.name for p in restored_files.iterdir()] == [clash.name]
    assert not target.exists()


def corrupt(path: Path, how: str) -> Path:
    """A copy of the archive, damaged in one way."""
    bad = path.with_name(f"{how}.tar.gz")
    data = bytearray(path.read_bytes())
    if how == "flipped":
        for offset in range(len(data) // 3, len(data) // 3 + 8):
            data[offset] ^= 0xFF
    elif how == "truncated":
        data = data[: len(data) // 2]
    elif how == "not_gzip":
        data = bytearray(b"just some text, not an archive\n" * 10)
    elif how == "altered":  # a file's bytes changed, the manifest left as it was: checksum
        with tarfile.open(path, "r:gz") as source, tarfile.open(bad, "w:gz") as out:
            for member in source.getmembers():
                content = source.extractfile(member).read()  # type: ignore[union-attr]
                if member.name.startswith("files/"):
                    content = content[:-1] + bytes([content[-1] ^ 1])
                out.addfile(member, io.BytesIO(content))
        return bad
    bad.write_bytes(bytes(data))
    return bad


@pytest.mark.parametrize("how", ["flipped", "truncated", "not_gzip", "altered"])
def test_a_damaged_archive_is_refused_before_anything_is_written(
    engine, storage, clock, tmp_path, how
):
    School(engine, clock, students=2)
    created = create_backup(db_url=url_of(engine), storage_dir=storage, backup_dir=tmp_path / "b")
    bad = corrupt(created.path, how)
    target = tmp_path / "target.db"

    with pytest.raises(BackupError, match="damaged or not a Visio backup"):
        verify_backup(bad)
    with pytest.raises(BackupError, match="damaged or not a Visio backup"):
        restore_backup(bad, db_url=sqlite_url(target), storage_dir=tmp_path / "restored")
    assert not target.exists()
    assert not (tmp_path / "restored").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".visio-restore-")]


def test_a_backup_of_one_database_kind_is_refused_by_the_other(
    engine, storage, clock, tmp_path, pg_url
):
    School(engine, clock, students=2)
    created = create_backup(db_url=url_of(engine), storage_dir=storage, backup_dir=tmp_path / "b")

    with pytest.raises(BackupError, match="backup of a SQLite database; the target database is"):
        restore_backup(created.path, db_url=pg_url, storage_dir=tmp_path / "restored")
    assert not (tmp_path / "restored").exists()
    backup_databases.require_empty("postgresql", pg_url)  # still empty


def remove_first_material(engine: Engine, school: School, clock) -> str:
    """The teacher removes their first material (its file goes once the row is gone)."""
    with Session(engine, expire_on_commit=False) as db:
        first = db.exec(select(Material).order_by(Material.id)).first()
        teacher = db.get(User, school.teacher.id)
        materials.remove_material(db=db, actor=teacher, material_id=first.id, clock=clock)
        return first.storage_name


def deleting_during_snapshots(monkeypatch, engine, school, clock, *, before_hold: bool):
    """Wrap the snapshot so the first one sees a material removed at its moment: just before
    its files are held (the instant a link can lose), or just after (while the copy is made)."""
    real_snapshot = backup_databases.snapshot
    shots: list[str] = []

    def snapshot(kind, url, dest, *, hold):
        def hold_and_delete(names):
            first = not shots
            shots.append(url)
            if first and before_hold:
                removed.append(remove_first_material(engine, school, clock))
            hold(names)
            if first and not before_hold:
                removed.append(remove_first_material(engine, school, clock))

        return real_snapshot(kind, url, dest, hold=hold_and_delete)

    removed: list[str] = []
    monkeypatch.setattr(backup_databases, "snapshot", snapshot)
    return shots, removed


def test_a_file_deleted_while_the_database_is_copied_is_still_in_the_backup(
    source, storage, clock, tmp_path, monkeypatch, blank_url
):
    school = School(source, clock, students=2)
    shots, removed = deleting_during_snapshots(
        monkeypatch, source, school, clock, before_hold=False
    )
    created = create_backup(db_url=url_of(source), storage_dir=storage, backup_dir=tmp_path / "b")

    assert len(shots) == 1 and len(removed) == 1
    assert not (storage / removed[0]).exists()  # gone from the app
    assert {entry.name for entry in created.manifest.files} == set(school.originals)
    target = blank_url()
    restore_backup(created.path, db_url=target, storage_dir=tmp_path / "restored")
    assert_restored(target, tmp_path / "restored", school.originals)  # row and file came back
    assert (tmp_path / "restored" / removed[0]).read_bytes() == school.originals[removed[0]]
    assert not [p for p in storage.iterdir() if p.name.startswith(".")]  # staging cleaned up


def test_a_file_deleted_before_it_could_be_held_makes_the_backup_start_again(
    source, storage, clock, tmp_path, monkeypatch, blank_url
):
    school = School(source, clock, students=2)
    shots, removed = deleting_during_snapshots(monkeypatch, source, school, clock, before_hold=True)
    created = create_backup(db_url=url_of(source), storage_dir=storage, backup_dir=tmp_path / "b")

    assert len(shots) == 2  # the first copy refers to a file already gone: taken again
    assert created.manifest.missing_files == []
    assert {entry.name for entry in created.manifest.files} == set(school.originals) - set(removed)
    target = blank_url()
    restore_backup(created.path, db_url=target, storage_dir=tmp_path / "restored")
    assert_restored(target, tmp_path / "restored", school.originals)


def test_a_file_lost_before_the_backup_is_reported_not_invented(engine, storage, clock, tmp_path):
    school = School(engine, clock, students=2)
    lost = sorted(school.originals)[0]
    (storage / lost).unlink()  # gone from the disk behind the app's back

    created = create_backup(db_url=url_of(engine), storage_dir=storage, backup_dir=tmp_path / "b")

    assert created.manifest.missing_files == [lost]
    assert "1 material files the database refers to were already missing" in created.report()
    restored = restore_backup(
        created.path, db_url=sqlite_url(tmp_path / "t.db"), storage_dir=tmp_path / "restored"
    )
    assert lost in restored.report()
    assert {p.name for p in (tmp_path / "restored").iterdir()} == set(school.originals) - {lost}


def test_a_backup_from_an_older_revision_says_to_migrate(storage, tmp_path):
    old = tmp_path / "old.db"
    command.upgrade(alembic_config(sqlite_url(old)), "0008")
    created = create_backup(db_url=sqlite_url(old), storage_dir=storage, backup_dir=tmp_path / "b")
    assert created.manifest.alembic_revision == "0008"

    target = sqlite_url(tmp_path / "restored.db")
    restored = restore_backup(created.path, db_url=target, storage_dir=tmp_path / "restored")

    assert restored.needs_upgrade
    assert "run `make migrate`" in restored.report()
    command.upgrade(alembic_config(target), "head")  # and the restored copy does migrate


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "visio.backup", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_command_line_backs_up_and_restores_end_to_end(
    source, storage, blank_url, clock, tmp_path
):
    school = School(source, clock, students=4)
    backups = tmp_path / "backups"
    app = {
        "REFLEX_DB_URL": url_of(source),
        "VISIO_STORAGE_DIR": str(storage),
        "VISIO_BACKUP_DIR": str(backups),
    }

    made = cli("create", env=app)
    assert made.returncode == 0, made.stderr
    (archive,) = backups.glob("visio-*.tar.gz")
    assert f"Backup written: {archive}" in made.stdout
    assert archive.stat().st_mode & 0o777 == 0o600  # personal data: its owner only
    assert not [p for p in backups.iterdir() if p.name.startswith(".")]  # no leftovers

    checked = cli("verify", str(archive), env=app)
    assert checked.returncode == 0 and "every checksum matches" in checked.stdout

    target = {"REFLEX_DB_URL": blank_url(), "VISIO_STORAGE_DIR": str(tmp_path / "restored")}
    restored = cli("restore", str(archive), env=target)
    assert restored.returncode == 0, restored.stderr
    assert "Visio can start on it" in restored.stdout
    assert_restored(target["REFLEX_DB_URL"], tmp_path / "restored", school.originals)

    again = cli("restore", str(archive), env=target)
    assert again.returncode == 1
    assert "is not empty" in again.stderr and "Traceback" not in again.stderr

    missing = cli("restore", str(tmp_path / "nope.tar.gz"), env={"REFLEX_DB_URL": blank_url()})
    assert missing.returncode == 1
    assert "There is no backup file at" in missing.stderr and "Traceback" not in missing.stderr

    damaged = cli("restore", str(corrupt(archive, "truncated")), env={"REFLEX_DB_URL": blank_url()})
    assert damaged.returncode == 1
    assert "damaged" in damaged.stderr and "Traceback" not in damaged.stderr

    usage = cli("restore", env=target)
    assert usage.returncode == 2
