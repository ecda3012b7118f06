"""Signed download links: one file, one login, a few minutes; nothing else opens with them."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from tests.factories import STRONG_PASSWORD, make_student
from visio.clock import FrozenClock
from visio.services import accounts, download_links
from visio.services.errors import NotAuthenticated


def _login(db: Session, clock: FrozenClock) -> tuple[int, str]:
    student = make_student(db, clock=clock)
    token = accounts.login(
        db=db, email=student.email, password=STRONG_PASSWORD, address=None, clock=clock
    ).token
    return student.id, token  # type: ignore[return-value]


def _refused(db: Session, clock: FrozenClock, material_id: int, grant: str) -> None:
    with pytest.raises(NotAuthenticated) as refused:
        download_links.user_for_grant(db=db, material_id=material_id, grant=grant, clock=clock)
    assert refused.value.code == "download_link_invalid"


def test_a_grant_names_its_user_for_its_material_only(db: Session, clock: FrozenClock) -> None:
    user_id, token = _login(db, clock)
    grants = download_links.sign(db=db, token=token, material_ids=[7, 8], clock=clock)

    found = download_links.user_for_grant(db=db, material_id=7, grant=grants[7], clock=clock)

    assert found.id == user_id
    assert grants[7] != grants[8]
    _refused(db, clock, 8, grants[7])


def test_a_grant_expires(db: Session, clock: FrozenClock) -> None:
    _, token = _login(db, clock)
    grant = download_links.sign(db=db, token=token, material_ids=[7], clock=clock)[7]

    clock.advance(seconds=download_links.LINK_TTL.total_seconds() + 1)

    _refused(db, clock, 7, grant)


def test_a_grant_dies_with_its_login(db: Session, clock: FrozenClock) -> None:
    _, token = _login(db, clock)
    grant = download_links.sign(db=db, token=token, material_ids=[7], clock=clock)[7]

    accounts.logout(db=db, token=token, clock=clock)

    _refused(db, clock, 7, grant)


def test_forged_or_garbled_grants_are_refused(db: Session, clock: FrozenClock) -> None:
    _, token = _login(db, clock)
    login_id, expires, signature = download_links.sign(
        db=db, token=token, material_ids=[7], clock=clock
    )[7].split(".")
    later = int(expires) + 3600
    for grant in (
        f"{login_id}.{later}.{signature}",  # a longer life than signed
        f"{int(login_id) + 1}.{expires}.{signature}",  # someone else's login
        f"{login_id}.{expires}.{signature[:-2]}AA",
        f"{2**80}.{expires}.{signature}",
        "",
        "1.2",
        "a.b.c",
    ):
        _refused(db, clock, 7, grant)


def test_only_a_live_login_gets_grants(db: Session, clock: FrozenClock) -> None:
    _, token = _login(db, clock)
    accounts.logout(db=db, token=token, clock=clock)
    for dead in (token, "forged", None):
        with pytest.raises(NotAuthenticated):
            download_links.sign(db=db, token=dead, material_ids=[7], clock=clock)
