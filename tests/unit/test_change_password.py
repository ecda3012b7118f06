"""Changing one's password: proven by the current one, the rules of registration, every other
login revoked (the one used stays), pending reset links spent, wrong attempts throttled."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.factories import STRONG_PASSWORD, make_student
from visio.models import AuditEvent, PasswordReset
from visio.services import accounts
from visio.services.errors import Forbidden, InvalidCredentials, InvalidInput, Throttled

NEW_PASSWORD = "Copper-Meadow-Falcon-31"


def test_a_change_keeps_this_login_and_revokes_the_others(db, clock) -> None:
    student = make_student(db, clock=clock)
    here = accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None)
    elsewhere = accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None)
    accounts.request_password_reset(db=db, email=student.email, address=None, clock=clock)

    accounts.change_password(
        db=db,
        actor=student,
        current_password=STRONG_PASSWORD,
        new_password=NEW_PASSWORD,
        keep_token=here.token,
        clock=clock,
    )

    assert accounts.user_for_token(db=db, token=here.token) is not None
    assert accounts.user_for_token(db=db, token=elsewhere.token) is None
    with pytest.raises(InvalidCredentials):
        accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None)
    accounts.login(db=db, email=student.email, password=NEW_PASSWORD, address=None)
    assert all(r.used_at is not None for r in db.exec(select(PasswordReset)).all())
    [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "user.password_changed"))
    assert event.data == {"logins_revoked": 1}


def test_a_wrong_current_password_changes_nothing(db, clock) -> None:
    student = make_student(db, clock=clock)
    login = accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None)

    with pytest.raises(Forbidden) as refused:
        accounts.change_password(
            db=db,
            actor=student,
            current_password="not-my-password-1",
            new_password=NEW_PASSWORD,
            keep_token=login.token,
            clock=clock,
        )

    assert refused.value.code == "current_password_wrong"
    assert refused.value.field == "current_password"
    accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None)


@pytest.mark.parametrize(
    ("new", "code"), [("short", "password_too_short"), ("password123", "password_common")]
)
def test_a_weak_new_password_is_refused_with_the_rules_message(db, clock, new, code) -> None:
    student = make_student(db, clock=clock)

    with pytest.raises(InvalidInput) as refused:
        accounts.change_password(
            db=db,
            actor=student,
            current_password=STRONG_PASSWORD,
            new_password=new,
            keep_token=None,
            clock=clock,
        )

    assert (refused.value.code, refused.value.field) == (code, "new_password")
    accounts.login(db=db, email=student.email, password=STRONG_PASSWORD, address=None)


def test_wrong_current_passwords_are_throttled(db, clock) -> None:
    student = make_student(db, clock=clock)

    with pytest.raises(Throttled):
        for _ in range(20):
            with pytest.raises((Forbidden, Throttled)) as refused:
                accounts.change_password(
                    db=db,
                    actor=student,
                    current_password="not-my-password-1",
                    new_password=NEW_PASSWORD,
                    keep_token=None,
                    clock=clock,
                )
            if isinstance(refused.value, Throttled):
                raise refused.value
