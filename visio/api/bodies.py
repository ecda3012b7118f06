"""Request bodies are bounded before any work, and client junk costs one log line.

`BoundedBodies` is pure ASGI middleware on the API app, which mounts the Reflex app: it sees
every request (API, pages, Reflex's `/_upload`, the `/_event` websocket).

- A body larger than its limit is refused with 413 before any of it is used: at once when its
  Content-Length says so; otherwise (chunked) the moment the bytes read pass the limit, so the
  rest is never buffered nor spooled to disk. Up to `DRAIN_MAX` of the rest is read and dropped
  first, for at most `DRAIN_SECONDS`: a client that sends its whole body before reading (most
  do) would otherwise see the connection reset instead of the answer; a bigger or stalled body
  gets the answer at once and the connection closes. File uploads get the upload limit;
  everything else `VISIO_MAX_BODY_BYTES`.
- Reflex's `/_upload` (the materials page's file upload) is refused before a byte is read
  unless it carries Reflex's headers (which a cross-site form cannot send) and the login
  cookie of a teacher.
- A websocket frame that does not even parse ends its connection with one warning line, not
  a stack trace; so do the socket servers' own reports of such frames.
"""

from __future__ import annotations

import asyncio
import logging
import re
import traceback
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visio.api import errors
from visio.db import open_db
from visio.services import accounts, materials
from visio.services.errors import DomainError
from visio.settings import settings

log = logging.getLogger(__name__)

REFLEX_UPLOAD = "/_upload"  # Reflex's upload endpoint (reflex constants.Endpoint.UPLOAD)
REFLEX_UPLOAD_HEADERS = ("reflex-client-token", "reflex-event-handler")
TOKEN_COOKIE = "visio_token"  # the pages' login cookie (visio.state.app.AppState.token)
MATERIAL_UPLOAD = re.compile(r"/api/sessions/[^/]+/materials/?")
# Room for part headers, a title and Reflex's own form field around the files.
MULTIPART_OVERHEAD = 64 * 1024
# Exceptions raised while these modules decode a frame mean the client sent junk.
FRAME_PARSERS = ("/engineio/packet.py", "/socketio/packet.py")
SOCKET_LOGGERS = ("engineio.server", "socketio.server")
ONE_LINE_MAX = 300


class BodyTooLarge(HTTPException):
    """The body read so far passed its limit: reading stops here."""

    def __init__(self) -> None:
        super().__init__(413)


DRAIN_MAX = 1 << 20  # bytes of a refused body read and dropped, so the client gets the 413
DRAIN_SECONDS = 2.0  # ... for this long at most: a client that stops sending is not waited for


async def _drain(receive: Receive, budget: int) -> None:
    """Read and drop the rest of a refused body: at most `budget` bytes, for DRAIN_SECONDS."""
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            while budget > 0:
                message = await receive()
                if message["type"] != "http.request":
                    return
                budget -= len(message.get("body", b""))
                if not message.get("more_body", False):
                    return
    except TimeoutError:
        return


def upload_body_max(files: int = 1) -> int:
    """The largest body that carries `files` files of the allowed size."""
    return files * materials.upload_limit() + MULTIPART_OVERHEAD


def body_limit(scope: Scope) -> int:
    """The largest body this request may have."""
    path, method = scope["path"], scope["method"]
    if method == "POST" and path == REFLEX_UPLOAD:
        return upload_body_max(materials.FILES_PER_UPLOAD)
    if method == "POST" and MATERIAL_UPLOAD.fullmatch(path):
        media_type = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
        if media_type == "multipart/form-data":
            return upload_body_max()
    return settings.max_body_bytes


def declared_length(scope: Scope) -> int | None:
    """The Content-Length the client announced, if it is a plain number."""
    raw = Headers(scope=scope).get("content-length", "").strip()
    return int(raw) if raw.isdigit() else None


def takes_uploads(handler_name: str) -> bool:
    """Reflex would pass files to this event handler. It checks that itself, but only once
    it has read the body, and answers a handler that takes none with a stack trace."""
    from reflex_base.event import resolve_upload_chunk_handler_param, resolve_upload_handler_param
    from reflex_base.registry import RegistrationContext
    from reflex_base.utils.exceptions import UploadTypeError, UploadValueError

    try:
        registered = RegistrationContext.get().event_handlers.get(handler_name)
    except LookupError:  # no Reflex app here: nothing to check against
        return True
    if registered is None:
        return False
    for resolve in (resolve_upload_handler_param, resolve_upload_chunk_handler_param):
        try:
            resolve(registered.handler)
        except (UploadTypeError, UploadValueError):
            continue
        return True
    return False


def reflex_upload_refusal(request: Request) -> Response | None:
    """Why Reflex's upload endpoint refuses this request before reading it, if it does."""
    if not all(request.headers.get(name) for name in REFLEX_UPLOAD_HEADERS):
        return errors.http_error_response(request, 400)
    if not takes_uploads(request.headers["reflex-event-handler"]):
        return errors.http_error_response(request, 400)
    try:
        with open_db() as db:
            actor = accounts.user_for_token(db=db, token=request.cookies.get(TOKEN_COOKIE))
            materials.check_can_add(db=db, actor=actor, video_session_id=None)
    except DomainError as error:
        return errors.domain_error_response(request, error)
    return None


class BoundedBodies:
    """Pure ASGI middleware: bounded bodies, a guarded `/_upload`, quiet websocket junk."""

    def __init__(self, app: ASGIApp, limit: Callable[[Scope], int] = body_limit) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "POST" and scope["path"] == REFLEX_UPLOAD:
            refusal = await run_in_threadpool(reflex_upload_refusal, Request(scope))
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        limit = self.limit(scope)
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            if declared <= DRAIN_MAX:
                await _drain(receive, DRAIN_MAX)
            await self._too_large(scope, receive, send)
            return

        read, cut, started = 0, False, False

        async def bounded_receive() -> Message:
            nonlocal read, cut
            if cut:
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    cut = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if cut and not started:
                return  # whatever the app made of the cut, the caller gets the 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except Exception:
            if not cut:
                raise
            # The app let the cut through (or failed on it): the 413 below answers it.
        if cut and not started:
            await _drain(receive, DRAIN_MAX - read)
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        log.warning("request body too large: %s %s", scope["method"], scope["path"])
        # The unread rest of the body cannot be used for another request on this connection.
        response = errors.http_error_response(request, 413, {"Connection": "close"})
        await response(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as error:
            if not is_frame_junk(error):
                raise
            log.warning("bad client frame on websocket %s: %s", scope["path"], one_line(error))


def is_frame_junk(error: BaseException) -> bool:
    """The exception was raised while decoding a frame the client sent."""
    frames = traceback.extract_tb(error.__traceback__)
    return any(frame.filename.endswith(FRAME_PARSERS) for frame in frames)


def one_line(error: BaseException) -> str:
    """`Type: message` on one line, short, control characters escaped."""
    text = f"{type(error).__name__}: {error}"
    if len(text) > ONE_LINE_MAX:
        text = text[:ONE_LINE_MAX] + "..."
    return text.encode("unicode_escape").decode("ascii")


class OneLineClientErrors(logging.Filter):
    """The socket servers log a frame they cannot handle with its stack trace; only a client
    sends them, so one warning line says enough (their handlers only parse and enqueue:
    Reflex's event handlers run, and log, elsewhere)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            record.msg, record.args = (
                "bad client frame: %s: %s",
                (record.getMessage(), one_line(error)),
            )
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def install(api: FastAPI) -> None:
    """Bound the API app's bodies (and the Reflex app's it mounts); quiet the socket junk."""
    api.add_middleware(BoundedBodies)
    for name in SOCKET_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, OneLineClientErrors) for f in logger.filters):
            logger.addFilter(OneLineClientErrors())
