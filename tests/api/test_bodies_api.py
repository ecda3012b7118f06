"""Bodies are bounded before any work: over real HTTP, against the served app.

"Refused before it is read" is shown with a raw socket that sends the headers (and at most a
first piece of the body) and then waits for the answer: a server that waited for the rest of
the body would never answer, and the read would time out.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import simple_websocket
from reflex_base.utils.format import format_event_handler

from tests.api.conftest import PDF, Served, assert_error, serve_api
from tests.factories import STRONG_PASSWORD
from visio.settings import settings
from visio.state.materials import MaterialsState

UPLOAD_HANDLER = format_event_handler(MaterialsState.handle_upload)
NOT_AN_UPLOAD_HANDLER = format_event_handler(MaterialsState.set_link_title)
BOUNDARY = "visio-test-boundary"


def raw_request(
    url: str, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """Send a request's head and `body` (maybe only the start of what the head announces),
    send nothing more, and read the answer: its status, headers and body."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        head = f"{method} {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        sock.sendall(head.encode() + b"\r\n" + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += _recv(sock)
        top, _, rest = answer.partition(b"\r\n\r\n")
        lines = top.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        found = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(found.get("content-length", "0"))
        while len(rest) < length:
            rest += _recv(sock)
        return status, found, rest


def _recv(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        raise ConnectionError("the server closed the connection without an answer")
    return data


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def assert_raw_error(answer: tuple[int, dict[str, str], bytes], status: int, code: str) -> None:
    got, headers, body = answer
    assert (got, headers.get("content-type")) == (status, "application/json"), body[:300]
    assert json.loads(body)["code"] == code


def multipart_head(filename: str = "big.pdf") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
        "\r\nContent-Type: application/pdf\r\n\r\n"
    ).encode()


def multipart(data: bytes, filename: str = "big.pdf") -> bytes:
    return multipart_head(filename) + data + f"\r\n--{BOUNDARY}--\r\n".encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --- JSON bodies ------------------------------------------------------------------------------


def _register_body(size: int) -> bytes:
    padding = "x" * size
    return json.dumps(
        {
            "email": f"{uuid.uuid4().hex}@example.org",
            "password": padding,
            "full_name": "A B",
            "role": "student",
        }  # fmt: skip
    ).encode()


def test_a_100_kb_register_is_413(http) -> None:  # type: ignore[no-untyped-def]
    response = http.post(
        "/api/auth/register",
        content=_register_body(100_000),
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 413, "request_too_large")


def test_a_client_that_sends_its_whole_over_limit_body_first_still_reads_the_413(served) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps({"email": "a@b.c", "password": "p" * 300_000}).encode()
    for _ in range(5):  # the server drops the rest before answering: no reset under the answer
        status, found = _whole_then_read(served.url, body)
        assert status == 413, found


def _whole_then_read(url: str, body: bytes) -> tuple[int, dict[str, str]]:
    """Send a whole request (head and body) before reading a byte, as most clients do."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        head = (
            f"POST /api/auth/login HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        sock.sendall(head.encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += _recv(sock)
        top = answer.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
        return int(top[0].split()[1]), {"status_line": top[0]}


def test_a_declared_length_over_the_limit_is_answered_before_the_body_is_sent(served) -> None:  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/json", "Content-Length": str(100 * 1024 * 1024)}
    answer = raw_request(served.url, "POST", "/api/auth/register", headers)
    assert_raw_error(answer, 413, "request_too_large")


def test_a_chunked_json_body_is_cut_once_past_the_limit(served) -> None:  # type: ignore[no-untyped-def]
    # More than the limit, and never the final empty chunk: only a cut can answer this.
    body = b"".join(chunk(b"x" * 8192) for _ in range(settings.max_body_bytes // 8192 + 2))
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    answer = raw_request(served.url, "POST", "/api/auth/register", headers, body)
    assert_raw_error(answer, 413, "request_too_large")


def test_a_chunked_json_body_sent_by_httpx_is_413(http) -> None:  # type: ignore[no-untyped-def]
    def pieces() -> Iterator[bytes]:
        data = _register_body(200_000)
        for start in range(0, len(data), 8192):
            yield data[start : start + 8192]

    response = http.post(
        "/api/auth/register", content=pieces(), headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413, "request_too_large")


def test_a_chunked_body_under_the_limit_is_read_as_before(http) -> None:  # type: ignore[no-untyped-def]
    body = {"email": f"{uuid.uuid4().hex}@example.org", "password": STRONG_PASSWORD,
            "full_name": "Chunked Body", "role": "student"}  # fmt: skip
    response = http.post(
        "/api/auth/register",
        content=iter([json.dumps(body).encode()]),  # an iterator: sent chunked
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text


# --- material uploads through the API ---------------------------------------------------------


@pytest.mark.parametrize("who", ["student", "other_teacher"])
def test_a_strangers_chunked_upload_is_refused_before_it_is_read(served, cast, who) -> None:  # type: ignore[no-untyped-def]
    before = files_in(served.storage)
    headers = {
        **getattr(cast, who).headers,
        "Content-Type": MULTIPART,
        "Transfer-Encoding": "chunked",
    }
    # 64 KiB of a 20 MB upload are sent, then nothing: the answer cannot wait for the rest.
    start = chunk(multipart_head() + PDF + b"\0" * 65536)
    answer = raw_request(
        served.url, "POST", f"/api/sessions/{cast.session.id}/materials", headers, start
    )
    assert_raw_error(answer, 403, "wrong_role" if who == "student" else "not_owner")
    assert files_in(served.storage) == before


def test_a_students_20_mb_chunked_upload_gets_403_and_stores_nothing(served, cast) -> None:  # type: ignore[no-untyped-def]
    before = files_in(served.storage)

    def upload() -> Iterator[bytes]:
        yield multipart_head() + PDF
        for _ in range(20 * 16):
            yield b"\0" * 65536
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    with httpx.Client(base_url=served.url, timeout=60) as client:
        try:
            response = client.post(
                f"/api/sessions/{cast.session.id}/materials",
                headers={**cast.student.headers, "Content-Type": MULTIPART},
                content=upload(),
            )
        except httpx.TransportError:  # the server may close before the client sent it all
            response = None
    if response is not None:
        assert_error(response, 403, "wrong_role")
    assert files_in(served.storage) == before


@pytest.fixture(scope="module")
def small_uploads(
    served: Served, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The API alone with a 256 KiB upload limit and its own file folder: its URL and folder."""
    storage = tmp_path_factory.mktemp("small-uploads")
    env = {
        "REFLEX_DB_URL": str(served.engine.url),
        "VISIO_MAX_UPLOAD_BYTES": str(256 * 1024),
        "VISIO_STORAGE_DIR": str(storage),
    }
    with serve_api(env, tmp_path_factory.mktemp("small-uploads-log") / "api.log") as url:
        yield url, storage


def test_the_owners_chunked_upload_is_cut_at_the_limit_and_stores_nothing(
    small_uploads, cast
) -> None:  # type: ignore[no-untyped-def]
    url, storage = small_uploads
    path = f"/api/sessions/{cast.session.id}/materials"
    headers = {**cast.owner.headers, "Content-Type": MULTIPART, "Transfer-Encoding": "chunked"}
    # Past the limit and its allowance for the form, without ever ending the body.
    start = chunk(multipart_head() + PDF + b"\0" * (256 * 1024 + 64 * 1024 + 1))
    assert_raw_error(raw_request(url, "POST", path, headers, start), 413, "request_too_large")

    def upload() -> Iterator[bytes]:
        yield multipart_head() + PDF
        for _ in range(3 * 16):  # 3 MB
            yield b"\0" * 65536
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    with httpx.Client(base_url=url, timeout=60) as client:
        response = client.post(
            path, headers={**cast.owner.headers, "Content-Type": MULTIPART}, content=upload()
        )
        assert_error(response, 413, "request_too_large")
        declared = raw_request(
            url, "POST", path,
            {**cast.owner.headers, "Content-Type": MULTIPART, "Content-Length": str(10**9)},
        )  # fmt: skip
        assert_raw_error(declared, 413, "request_too_large")
        assert files_in(storage) == []

        # Under the limit, the same upload is stored.
        small = client.post(
            path,
            headers={**cast.owner.headers, "Content-Type": MULTIPART},
            content=multipart(PDF + b"\0" * 1000),
        )
        assert small.status_code == 201, small.text
    assert len(files_in(storage)) == 1


# --- Reflex's /_upload --------------------------------------------------------------------------


def _reflex_headers(token: str | None = None, length: int = 300 * 1024 * 1024) -> dict[str, str]:
    headers = {
        "Content-Type": MULTIPART,
        "Content-Length": str(length),
        "Reflex-Client-Token": str(uuid.uuid4()),
        "Reflex-Event-Handler": UPLOAD_HANDLER,
    }
    if token:
        headers["Cookie"] = f"visio_token={token}"
    return headers


def test_reflex_upload_without_a_teachers_login_is_refused_unread(served, make) -> None:  # type: ignore[no-untyped-def]
    student, teacher = make.student(), make.teacher()
    answer = raw_request(served.url, "POST", "/_upload", _reflex_headers())
    assert_raw_error(answer, 401, "not_authenticated")
    answer = raw_request(served.url, "POST", "/_upload", _reflex_headers("not-a-token"))
    assert_raw_error(answer, 401, "not_authenticated")
    answer = raw_request(served.url, "POST", "/_upload", _reflex_headers(student.token))
    assert_raw_error(answer, 403, "wrong_role")
    # Without Reflex's own headers (a form posted from another site cannot add them).
    bare = {"Content-Type": MULTIPART, "Content-Length": str(300 * 1024 * 1024),
            "Cookie": f"visio_token={teacher.token}"}  # fmt: skip
    assert_raw_error(raw_request(served.url, "POST", "/_upload", bare), 400, "bad_request")


@pytest.mark.parametrize("handler", [NOT_AN_UPLOAD_HANDLER, "no.such.handler"])
def test_reflex_upload_to_a_handler_that_takes_no_files_is_400_unread(
    served, make, handler
) -> None:  # type: ignore[no-untyped-def]
    headers = {**_reflex_headers(make.teacher().token), "Reflex-Event-Handler": handler}
    answer = raw_request(served.url, "POST", "/_upload", headers)
    assert_raw_error(answer, 400, "bad_request")


def test_a_teachers_reflex_upload_over_the_limit_is_413_unread(served, make) -> None:  # type: ignore[no-untyped-def]
    teacher = make.teacher()
    answer = raw_request(served.url, "POST", "/_upload", _reflex_headers(teacher.token))
    assert_raw_error(answer, 413, "request_too_large")


# --- client junk --------------------------------------------------------------------------------


def _new_log(log: Path, start: int) -> str:
    return log.read_text(errors="replace")[start:]


def _wait_for(log: Path, start: int, needle: str) -> str:
    """The log written since `start`, once it mentions `needle` (the server logs after it
    answered); fails if it never does."""
    deadline = time.monotonic() + 30
    while needle not in (text := _new_log(log, start)):
        if time.monotonic() > deadline:
            pytest.fail(f"the log never said {needle!r}; it said:\n{text[-3000:]}")
        time.sleep(0.1)
    return text


JUNK_FRAMES = ["", "4garbage", "42garbage", '42["event"', b"\x00\x01binary", "9"]


@pytest.mark.parametrize("frame", JUNK_FRAMES, ids=repr)
def test_a_malformed_websocket_frame_is_one_log_line(app_server, frame) -> None:  # type: ignore[no-untyped-def]
    start = len(app_server.log.read_text(errors="replace"))
    ws_url = app_server.url.replace("http", "ws", 1) + "/_event/?EIO=4&transport=websocket"
    ws = simple_websocket.Client.connect(ws_url)
    try:
        ws.receive(timeout=10)  # the engine.io handshake
        ws.send(frame)
    finally:
        try:
            ws.close()
        except simple_websocket.ConnectionClosed:
            pass
    text = _wait_for(app_server.log, start, "bad client frame")
    assert "Traceback" not in text
    assert len([line for line in text.splitlines() if "bad client frame" in line]) == 1


def test_broken_multipart_oversized_fields_and_polling_junk_log_no_stack_trace(
    app_server, http, cast, make
) -> None:  # type: ignore[no-untyped-def]
    start = len(app_server.log.read_text(errors="replace"))
    url = f"/api/sessions/{cast.session.id}/materials"
    broken = http.post(
        url,
        headers={**cast.owner.headers, "Content-Type": MULTIPART},
        content=b"--" + BOUNDARY.encode() + b"\r\ngarbage",
    )
    assert_error(broken, 422, "invalid_input")
    long_title = http.post(
        url,
        headers={**cast.owner.headers, "Content-Type": MULTIPART},
        content=(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\n'.encode()
            + b"t" * 2_000_000 + b"\r\n" + multipart(PDF)
        ),
    )  # fmt: skip
    assert_error(long_title, 422, "invalid_input")
    # A new connection: the server may close the last one, whose 2 MB body it left unread.
    huge_field = httpx.post(
        f"{app_server.url}/api/auth/login",
        headers={"Content-Type": "application/json"},
        content=json.dumps({"email": "a@b.c", "password": "p" * 200_000}).encode(),
        timeout=30,
    )
    assert_error(huge_field, 413, "request_too_large")
    teacher = make.teacher()
    reflex_headers = _reflex_headers(teacher.token)
    del reflex_headers["Content-Length"]
    broken_upload = http.post(
        "/_upload", headers=reflex_headers, content=b"--" + BOUNDARY.encode() + b"\r\ngarbage"
    )
    assert broken_upload.status_code < 500
    polling = http.post("/_event/?EIO=4&transport=polling", content=b"junk")  # websocket only
    assert polling.status_code == 400
    text = _wait_for(app_server.log, start, "request body too large: POST /api/auth/login")
    assert "Traceback" not in text, text
