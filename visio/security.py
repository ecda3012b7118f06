"""What browsers are told and allowed: security headers on every answer, how long they may
keep the pages' files, and which other origins may talk to the app (none unless
`VISIO_CORS_ORIGINS` names them).

The headers come from one ASGI middleware on the API app, which Reflex mounts the pages and
its own endpoints inside: pages, API and downloads all pass through it (websockets untouched).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visio.settings import settings

HSTS = "max-age=31536000; includeSubDomains"
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S)

# The build's scripts and styles are named after a hash of their content (`auth-YPBjskC9.js`):
# a name never serves two contents, so the browser keeps them for good and asks nothing. Without
# it, every page load asked again for each of its 40-80 files (a 304 each, through the app's
# middlewares): a fifth of a warm load's time here, 916 -> 752 ms (bench/results.md). Anything
# else the pages serve (the pages, favicon.svg, a11y.css) is asked again each time (a 304 while
# unchanged): a page kept by a guess could name files that a new build no longer has.
_HASHED_ASSET = re.compile(r"/assets/[^/]+-[A-Za-z0-9_-]{8,}\.[A-Za-z0-9.]+$")
FOREVER = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# The JSON API and anything it serves: nothing to run, nothing to frame.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI: its pinned bundle (see visio.api.docs), its start-up script, the spec.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' https://cdn.jsdelivr.net; "
    "style-src https://cdn.jsdelivr.net 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def same_origin_or_allowed(origin: str | None, environ: Mapping[str, Any] | None = None) -> bool:
    """Whether a page of `origin` may open the app's websocket: its own pages, or an allowlisted
    site. (Reflex's default lets any site's page in, with the visitor's cookies.)"""
    if not origin:
        return True  # not a browser page: a script, which has no visitor's cookies to abuse
    if origin in settings.cors_origins:
        return True
    environ = environ or {}
    hosts = {environ.get("HTTP_HOST"), environ.get("HTTP_X_FORWARDED_HOST")}
    _, _, netloc = origin.partition("://")
    return netloc != "" and netloc in hosts


def page_policy(host: str | None) -> str:
    """The pages' Content-Security-Policy: the app's own scripts (its build's inline ones by
    hash), its websocket, the Jitsi iframe; never framed by another site."""
    hashes = " ".join(f"'{h}'" for h in inline_script_hashes())
    connect = "'self'"
    if host and _HOST.fullmatch(host):
        connect += f" ws://{host} wss://{host}"
    return (
        "default-src 'self'; "
        # Reflex runs the scripts a state sends (rx.call_script, toasts) with eval.
        f"script-src 'self' 'unsafe-eval' {hashes}; "
        "style-src 'self' 'unsafe-inline'; "  # the components' styles are injected at run time
        "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; "
        f"connect-src {connect}; frame-src https://{settings.jitsi_domain}; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def build_dir() -> Path:
    """Where the production build of the pages is (what the app serves as `/`)."""
    from reflex.utils.prerequisites import get_web_dir

    return get_web_dir() / "build" / "client"


def inline_script_hashes() -> tuple[str, ...]:
    """The CSP hashes of every inline script in the built pages (React Router's boot code)."""
    found = _hashes_in(build_dir())
    if not found:  # no build yet (or the API alone): look again next time
        _hashes_in.cache_clear()
    return found


@functools.cache
def _hashes_in(root: Path) -> tuple[str, ...]:
    found: set[str] = set()
    for page in root.rglob("*.html") if root.is_dir() else ():
        for body in _INLINE_SCRIPT.findall(page.read_bytes()):
            digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
            found.add(f"sha256-{digest}")
    return tuple(sorted(found))


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/") or path in ("/health", "/ready", "/metrics")


def policy_for(path: str, host: str | None) -> str:
    if path == "/api/docs" or path.startswith("/api/docs/"):
        return DOCS_POLICY
    if _is_api(path):
        return API_POLICY
    return page_policy(host)


def cache_for(path: str, status: int) -> str | None:
    """How long a browser may keep this answer (None: the answer's own say, the API's)."""
    if _is_api(path):
        return None
    if status in (200, 304) and _HASHED_ASSET.search(path):
        return FOREVER
    return REVALIDATE


class SecurityHeaders:
    """Adds the security and caching headers to every HTTP answer that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1") or None
        https = scope.get("scheme") == "https" or settings.https

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Content-Security-Policy", policy_for(path, host))
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if (cache := cache_for(path, message["status"])) is not None:
                    headers.setdefault("Cache-Control", cache)
            await send(message)

        await self.app(scope, receive, send_with_headers)
