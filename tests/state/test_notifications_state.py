"""The bell's count (loaded with the shell) and the /notifications page's state."""

from __future__ import annotations

from sqlmodel import Session

from tests.factories import STRONG_PASSWORD, make_session, make_student, make_teacher
from tests.state.conftest import new_state, redirect_target, toasts
from visio.models import Notice, User
from visio.services import accounts, enrollments, outbox
from visio.state.notifications import PAGE_SIZE, NotificationsState


def _token(db: Session, email: str) -> str:
    return accounts.login(db=db, email=email, password=STRONG_PASSWORD, address=None).token


def _state(db: Session, user: User, lang: str = "en") -> NotificationsState:
    state = new_state(NotificationsState, _token(db, user.email))
    state.lang_choice = lang
    return state


def _notices(db: Session, user: User, clock, count: int, session_id: int = 5) -> list[Notice]:  # type: ignore[no-untyped-def]
    made = []
    for n in range(count):
        made.append(
            outbox.enqueue(
                db,
                kind="unenrolled",
                user=user,
                data={"session_id": session_id, "title": f"Class {n}", "refunded_cents": 0},
                at=clock(),
            )
        )
        clock.advance(seconds=1)
    db.commit()
    return made


def test_the_shell_loads_the_unread_count(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    _notices(db, student, now_clock, 12)
    state = _state(db, student)  # any page's state: the shell's event is the root state's
    state.load_shell()
    assert state.unread_count == 12
    assert state.bell_label == "Notifications: 12 unread"
    state.logout()
    assert state.unread_count == 0


def test_the_page_shows_one_page_newest_first_and_pages_on(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    made = _notices(db, student, now_clock, PAGE_SIZE + 3)
    state = _state(db, student)
    assert state.on_load() is None
    assert len(state.items) == PAGE_SIZE
    assert state.items[0]["id"] == made[-1].id
    assert state.items[0]["title"] == f"You left: Class {PAGE_SIZE + 2}"
    assert (state.total, state.pages, state.unread_count) == (PAGE_SIZE + 3, 2, PAGE_SIZE + 3)
    assert state.page_label == "Page 1 of 2"
    state.go_to_page(2)
    assert [i["id"] for i in state.items] == [n.id for n in reversed(made[:3])]
    state.go_to_page(99)
    assert state.page == 2


def test_marking_one_and_all_updates_the_rows_and_the_bell(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    student = make_student(db, clock=now_clock)
    made = _notices(db, student, now_clock, 3)
    state = _state(db, student)
    state.on_load()
    state.mark_read(made[0].id)
    assert state.unread_count == 2
    assert [i["read"] for i in state.items] == [False, False, True]
    assert state.items[0]["mark_label"] == "Mark as read: You left: Class 2"
    result = state.mark_all()
    assert toasts(result) == [("success", "All notifications are read.")]
    assert state.unread_count == 0 and all(i["read"] for i in state.items)
    assert state.unread_label == "All notifications are read."


def test_opening_an_item_marks_it_read_and_goes_to_its_page(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    teacher = make_teacher(db, clock=now_clock)
    session = make_session(db, teacher=teacher, clock=now_clock, publish=True)
    student = make_student(db, clock=now_clock)
    enrollments.enroll(db=db, actor=student, video_session_id=session.id, clock=now_clock)
    state = _state(db, student, lang="fr")
    state.on_load()
    (item,) = state.items
    assert item["title"] == f"Inscription confirmée : {session.title}"
    assert redirect_target(state.open_item(item["id"])) == f"/sessions/{session.id}"
    assert state.unread_count == 0


def test_another_users_id_changes_nothing(bound, db, now_clock) -> None:  # type: ignore[no-untyped-def]
    victim = make_student(db, clock=now_clock)
    (theirs,) = _notices(db, victim, now_clock, 1)
    attacker = make_student(db, clock=now_clock)
    state = _state(db, attacker)
    state.on_load()
    assert state.items == [] and state.total == 0
    state.mark_read(theirs.id)
    assert state.open_item(theirs.id) is None
    state.mark_read("not a number")  # type: ignore[arg-type]
    db.expire_all()
    assert db.get(Notice, theirs.id).read_at is None


def test_a_visitor_without_login_is_sent_to_login(bound) -> None:  # type: ignore[no-untyped-def]
    state = new_state(NotificationsState, "")
    assert redirect_target(state.on_load()).startswith("/login?next=")
    assert redirect_target(state.mark_all()).startswith("/login?next=")
    assert state.items == []
