"""Requests from pages of other origins, over real HTTP against the served app: no CORS grant
(a page on another port of the same host included), the login cookie is no credential for the
API, and the websocket opens only for the app's own pages and allowlisted sites."""

from __future__ import annotations

import socket
from datetime import timedelta

import httpx
import pytest

from tests.api.conftest import Served, assert_error
from tests.server import ALLOWED_ORIGIN


def _port(served: Served) -> int:
    return int(served.url.rsplit(":", 1)[1])


def _foreign_origins(served: Served) -> list[str]:
    """Another port of the same host (same site, other origin), a sandboxed page, another site."""
    return [f"http://127.0.0.1:{_port(served) + 1}", "null", "https://evil.example"]


def _preflight(http: httpx.Client, path: str, origin: str) -> httpx.Response:
    return http.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


@pytest.mark.parametrize("path", ["/api/wallet", "/api/sessions/1/enroll", "/ping", "/_upload"])
def test_pages_of_other_origins_get_no_cors_grant(http, served, make, path) -> None:  # type: ignore[no-untyped-def]
    student = make.student(funds_cents=5000)
    for origin in _foreign_origins(served):
        preflight = _preflight(http, path, origin)
        assert "access-control-allow-origin" not in preflight.headers, (origin, preflight.headers)

        answer = http.get(path, headers={"Origin": origin, **student.headers})
        assert "access-control-allow-origin" not in answer.headers, (origin, answer.headers)


def test_an_allowlisted_site_may_call_the_api_with_a_bearer_token(http, make) -> None:  # type: ignore[no-untyped-def]
    student = make.student(funds_cents=5000)

    preflight = _preflight(http, "/api/wallet", ALLOWED_ORIGIN)
    answer = http.get("/api/wallet", headers={"Origin": ALLOWED_ORIGIN, **student.headers})

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ALLOWED_ORIGIN


def test_the_api_ignores_the_login_cookie(http, served, make) -> None:  # type: ignore[no-untyped-def]
    """What a page on another port did: read the victim's wallet, enroll them in a paid session."""
    teacher, victim = make.teacher(), make.student(funds_cents=5000)
    session = make.session(teacher, is_paid=True, price_cents=2000, starts_in=timedelta(days=3))
    foreign = {"Origin": _foreign_origins(served)[0]}

    with httpx.Client(base_url=served.url, cookies={"visio_token": victim.token}) as browser:
        wallet = browser.get("/api/wallet", headers=foreign)
        enroll = browser.post(f"/api/sessions/{session.id}/enroll", headers=foreign)

    assert_error(wallet, 401, "not_authenticated")
    assert_error(enroll, 401, "not_authenticated")
    assert http.get("/api/wallet", headers=victim.headers).json()["balance_cents"] == 5000
    enrolled = http.get("/api/sessions", params={"scope": "mine"}, headers=victim.headers)
    assert enrolled.json()["total"] == 0


def _socket_handshake(served: Served, origin: str) -> int:
    """The status of a browser's websocket handshake from a page of `origin` (101: opened)."""
    port = _port(served)
    request = (
        "GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nOrigin: {origin}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=20) as connection:
        connection.sendall(request.encode())
        status_line = connection.recv(4096).split(b"\r\n", 1)[0]
    return int(status_line.split()[1])


def test_the_websocket_opens_for_the_apps_own_pages_only(served) -> None:  # type: ignore[no-untyped-def]
    assert _socket_handshake(served, served.url) == 101
    assert _socket_handshake(served, ALLOWED_ORIGIN) == 101
    for origin in _foreign_origins(served):
        assert _socket_handshake(served, origin) == 403, origin
