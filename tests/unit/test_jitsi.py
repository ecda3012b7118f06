"""Jitsi rooms: the public link without token auth, a per-join JWT with it, the iframe address."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
import pytest
from sqlmodel import Session

from tests.factories import make_session, make_student, make_teacher
from visio.clock import FrozenClock
from visio.services import attendance, enrollments, jitsi

APP_ID = "visio-test"
SECRET = "a-long-random-test-secret-0123456789"


@pytest.fixture
def with_jwt(monkeypatch):  # type: ignore[no-untyped-def]
    """Token auth set up: VISIO_JITSI_APP_ID and VISIO_JITSI_APP_SECRET."""
    configured = dataclasses.replace(
        jitsi.settings, jitsi_app_id=APP_ID, jitsi_app_secret=SECRET, jitsi_domain="meet.jit.si"
    )
    monkeypatch.setattr(jitsi, "settings", configured)
    return configured


@pytest.fixture
def live(db: Session, clock: FrozenClock):  # type: ignore[no-untyped-def]
    """A published Jitsi session whose join window is open now, its teacher and a student."""
    teacher = make_teacher(db, clock=clock, full_name="Marie Curie")
    session = make_session(
        db, teacher=teacher, clock=clock, publish=True, starts_at=clock() + timedelta(days=1)
    )
    student = make_student(db, clock=clock, full_name="Léa Dubois")
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=clock)
    clock.at = session.starts_at - timedelta(minutes=3)
    return session, teacher, student


def _claims(url: str) -> dict:
    token = parse_qs(urlsplit(url).query)["jwt"][0]
    return jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        audience="jitsi",
        options={"verify_exp": False, "verify_nbf": False},  # checked below, against the clock
    )


def test_the_room_name_is_the_generated_part_of_the_link(db, clock, live) -> None:  # type: ignore[no-untyped-def]
    session, _, _ = live
    name = jitsi.room_name(session)
    assert session.link == f"https://meet.jit.si/{name}"
    assert len(name) >= 16 and "/" not in name


def test_without_token_auth_everyone_gets_the_public_room_link(db, clock, live) -> None:  # type: ignore[no-untyped-def]
    session, teacher, student = live
    assert not jitsi.settings.jitsi_uses_jwt
    for user in (teacher, student):
        joined = attendance.join(db=db, actor=user, video_session_id=session.id, clock=clock)
        assert joined.url == session.link


def test_each_join_gets_a_room_bound_token_valid_for_the_join_window(
    db, clock, live, with_jwt
) -> None:  # type: ignore[no-untyped-def]
    session, teacher, student = live

    url = attendance.join(db=db, actor=student, video_session_id=session.id, clock=clock).url

    assert url.startswith(session.link + "?jwt=")
    claims = _claims(url)
    assert claims["aud"] == "jitsi"
    assert claims["iss"] == APP_ID
    assert claims["sub"] == "meet.jit.si"
    assert claims["room"] == jitsi.room_name(session)
    assert claims["nbf"] == int((session.starts_at - timedelta(minutes=10)).timestamp())
    assert claims["exp"] == int(session.ends_at.timestamp())
    assert claims["context"]["user"] == {
        "id": str(student.id),
        "name": "Léa Dubois",
        "email": student.email,
        "moderator": False,
    }


def test_only_the_owning_teacher_is_moderator(db, clock, live, with_jwt) -> None:  # type: ignore[no-untyped-def]
    session, teacher, student = live
    by_user = {
        user.id: _claims(
            attendance.join(db=db, actor=user, video_session_id=session.id, clock=clock).url
        )
        for user in (teacher, student)
    }
    assert by_user[teacher.id]["context"]["user"]["moderator"] is True
    assert by_user[student.id]["context"]["user"]["moderator"] is False


def test_the_token_is_signed_with_the_app_secret(db, clock, live, with_jwt) -> None:  # type: ignore[no-untyped-def]
    session, _, student = live
    url = attendance.join(db=db, actor=student, video_session_id=session.id, clock=clock).url
    token = parse_qs(urlsplit(url).query)["jwt"][0]
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token,
            "another-secret-of-sufficient-length",
            algorithms=["HS256"],
            audience="jitsi",
            options={"verify_exp": False, "verify_nbf": False},
        )


def test_the_iframe_address_carries_the_name_and_skips_the_prejoin_page() -> None:
    src = jitsi.embed_url(
        "https://meet.jit.si/abc?jwt=t0k", display_name='Léa "L" Dubois & co', lang="fr"
    )
    base, _, fragment = src.partition("#")
    assert base == "https://meet.jit.si/abc?jwt=t0k"
    options = {
        key: json.loads(unquote(value))
        for key, value in (pair.split("=", 1) for pair in fragment.split("&"))
    }
    assert options["userInfo.displayName"] == 'Léa "L" Dubois & co'
    assert options["config.prejoinPageEnabled"] is False
    assert options["config.defaultLanguage"] == "fr"
