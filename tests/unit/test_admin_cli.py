"""`python -m visio.admin create`: the operator's way to make an admin."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.factories import STRONG_PASSWORD, make_student, table_counts
from visio import admin as admin_cli
from visio import db as visio_db
from visio.models import Role, User
from visio.services import accounts


@pytest.fixture
def bound(engine):
    visio_db.bind_engine(engine)
    yield engine
    visio_db.bind_engine(None)


def test_create_makes_a_verified_admin_who_can_log_in(db, bound, monkeypatch, capsys):
    monkeypatch.setenv("VISIO_NEW_PASSWORD", STRONG_PASSWORD)

    assert admin_cli.main(["create", "--email", "Root@School.example", "--name", "Ana Root"]) == 0

    assert "Created the admin account root@school.example (Ana Root)." in capsys.readouterr().out
    user = db.exec(select(User).where(User.email == "root@school.example")).one()
    assert (user.role, user.email_verified_at is not None) == (Role.ADMIN, True)
    accounts.login(db=db, email=user.email, password=STRONG_PASSWORD, address=None)


def test_create_with_a_taken_email_says_so_and_changes_nothing(db, bound, clock, monkeypatch):
    student = make_student(db, clock=clock)
    monkeypatch.setenv("VISIO_NEW_PASSWORD", STRONG_PASSWORD)
    before = table_counts(db)

    with pytest.raises(SystemExit) as refused:
        admin_cli.main(["create", "--email", student.email.upper()])

    assert "already has an account: nothing was changed" in str(refused.value)
    assert table_counts(db) == before
    assert db.get(User, student.id).role == Role.STUDENT


def test_a_weak_password_is_refused_with_the_rule(db, bound, monkeypatch):
    monkeypatch.setenv("VISIO_NEW_PASSWORD", "short")
    with pytest.raises(SystemExit) as refused:
        admin_cli.main(["create", "--email", "root2@school.example"])
    assert "characters" in str(refused.value)
