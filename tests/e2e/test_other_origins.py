"""In a real browser: a page on another port of the same host cannot act as the logged-in
visitor (the attack of issue 11), and the app's own pages run under their Content-Security-Policy
without a single violation, the materials' signed download included."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from tests.e2e.helpers import login, open_path
from tests.factories import STRONG_PASSWORD, make_session, make_student, make_teacher, top_up
from tests.server import _free_port
from visio.clock import FrozenClock, utcnow
from visio.models import Enrollment
from visio.services import enrollments, materials

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.7\n% other origins\n%%EOF\n"


@pytest.fixture
def other_origin() -> Iterator[str]:
    """An empty page served on another port of the same host: the attacker's page."""

    class Blank(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            body = b"<!doctype html><title>elsewhere</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Blank)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


ATTACK = """async ([app, sessionId]) => {
  const outcome = {};
  try {
    const wallet = await fetch(app + "/api/wallet", {credentials: "include"});
    outcome.wallet = await wallet.text();
  } catch (error) {
    outcome.wallet = "unreadable";
  }
  // A "simple" request needs no preflight: the browser sends it, with the cookie.
  await fetch(app + `/api/sessions/${sessionId}/enroll`,
              {method: "POST", credentials: "include", mode: "no-cors"});
  outcome.socket = await new Promise((resolve) => {
    const socket = new WebSocket(app.replace("http", "ws") + "/_event/?EIO=4&transport=websocket");
    socket.onopen = () => { socket.close(); resolve("opened"); };
    socket.onerror = () => resolve("refused");
  });
  return outcome;
}"""


def test_a_page_on_another_port_cannot_act_as_the_logged_in_visitor(
    new_page, app_db, app_url, other_origin
) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(utcnow())
    teacher = make_teacher(app_db, clock=clock)
    paid = make_session(
        app_db,
        teacher=teacher,
        clock=clock,
        publish=True,
        is_paid=True,
        price_cents=2000,
        starts_at=clock() + timedelta(days=3),
    )
    victim = make_student(app_db, clock=clock)
    top_up(app_db, user=victim, amount_cents=5000, clock=clock)

    page = new_page("fr-FR")
    login(page, victim.email, STRONG_PASSWORD)
    page.wait_for_url(re.compile(r"/student/video-sessions/?$"))

    page.goto(other_origin)
    outcome = page.evaluate(ATTACK, [app_url, paid.id])

    assert outcome == {"wallet": "unreadable", "socket": "refused"}
    app_db.expire_all()
    seats = select(Enrollment).where(Enrollment.student_id == victim.id)
    assert app_db.exec(seats).all() == []


def test_pages_run_under_their_policy_and_download_through_signed_links(
    new_page, app_db, app_server
) -> None:  # type: ignore[no-untyped-def]
    past = FrozenClock(utcnow() - timedelta(hours=1))
    teacher = make_teacher(app_db, clock=past)
    session = make_session(
        app_db, teacher=teacher, clock=past, publish=True, starts_at=utcnow() + timedelta(minutes=5)
    )
    original_root = materials.storage_root
    materials.storage_root = lambda: app_server.storage_dir  # type: ignore[assignment]
    try:
        materials.add_file(
            db=app_db, actor=teacher, video_session_id=session.id, filename="cours.pdf", data=PDF
        )
    finally:
        materials.storage_root = original_root  # type: ignore[assignment]
    materials.add_link(
        db=app_db,
        actor=teacher,
        video_session_id=session.id,
        title="Lecture",
        url="https://example.org/lecture",
    )
    student = make_student(app_db, clock=past)
    enrollments.enroll(db=app_db, actor=student, video_session_id=session.id, clock=utcnow)

    page = new_page("fr-FR")
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.context.route(re.compile(r"^https://meet\.jit\.si/"), lambda route: route.abort())
    login(page, student.email, STRONG_PASSWORD)
    page.wait_for_url(re.compile(r"/student/video-sessions/?$"))
    open_path(page, f"/sessions/{session.id}")

    link = page.get_by_role("link", name="Lecture")
    assert link.get_attribute("href") == "https://example.org/lecture"
    href = page.get_by_role("link", name="cours.pdf").get_attribute("href")
    assert href.startswith("/api/materials/")
    download = page.request.get(href)  # the link alone proves who: the API takes no cookie
    assert (download.status, download.body()) == (200, PDF)

    open_path(page, f"/sessions/{session.id}/room")
    page.locator("#jitsi-room").wait_for()
    assert violations == []
