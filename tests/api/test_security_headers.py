"""Security headers on pages, API answers and downloads, over real HTTP against the served app;
HSTS and the Secure login cookie over https; /api/docs loads no unpinned script; how long
browsers keep the pages and their built files."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys

import httpx
import pytest

from tests.api.conftest import serve_api
from tests.server import ROOT
from visio.settings import settings

PAGES = ["/", "/login", "/register", "/student/video-sessions", "/sessions/1", "/sessions/1/room"]
API = ["/api/health", "/api/wallet", "/api/no/such/route", "/api/openapi.json"]


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (p.split() for p in policy.split(";") if p.strip())
    return {name: values for name, *values in parts}


def _common(response: httpx.Response) -> dict[str, list[str]]:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers  # plain http here
    return _directives(response.headers["content-security-policy"])


@pytest.mark.parametrize("path", PAGES)
def test_pages_allow_their_own_scripts_and_the_jitsi_frame_only(http, path) -> None:  # type: ignore[no-untyped-def]
    response = http.get(path, follow_redirects=True)  # /login -> /login/
    assert response.status_code == 200
    policy = _common(response)

    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-src"] == [f"https://{settings.jitsi_domain}"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert not [s for s in policy["script-src"] if s.startswith(("http", "*", "data:"))]
    # Every script the page itself carries inline is allowed by its hash: the page still runs.
    for body in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", response.text, re.S):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"], body[:80]


@pytest.mark.parametrize("path", API)
def test_api_answers_run_nothing_and_are_never_framed(http, path) -> None:  # type: ignore[no-untyped-def]
    policy = _common(http.get(path))
    assert policy == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}


def test_built_files_are_kept_for_good_and_pages_are_asked_again(http) -> None:  # type: ignore[no-untyped-def]
    page = http.get("/login", follow_redirects=True)
    assert page.status_code == 200
    # A page names the files of its build: kept by a guess, it could name some a new build lacks.
    assert page.headers["cache-control"] == "no-cache"
    revalidated = http.get("/login/", headers={"if-none-match": page.headers["etag"]})
    assert revalidated.status_code == 304
    assert revalidated.headers["cache-control"] == "no-cache"

    built = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text)
    script = next(path for path in built if path.endswith(".js"))
    style = next(path for path in built if path.endswith(".css"))
    for path in (script, style):
        first = http.get(path)
        assert first.status_code == 200, path
        assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert first.headers["x-content-type-options"] == "nosniff"
        again = http.get(path, headers={"if-none-match": first.headers["etag"]})
        assert again.status_code == 304
        assert again.headers["cache-control"] == "public, max-age=31536000, immutable"

    # A name no build has (an old page's, after a new build) is not kept: the next build may.
    missing = http.get("/assets/auth-Zz9Zz9Zz.js")
    assert missing.status_code == 404
    assert "immutable" not in missing.headers.get("cache-control", "")
    # Nor is a file of the build named without a hash of its content.
    assert http.get("/favicon.svg").headers["cache-control"] == "no-cache"
    # The API answers for itself (a download's `private, no-store`, the rest nothing).
    assert "cache-control" not in http.get("/api/wallet").headers


def test_a_download_keeps_its_own_sandbox(http, make) -> None:  # type: ignore[no-untyped-def]
    owner = make.teacher()
    pdf = make.pdf(owner, make.session(owner))
    response = http.get(f"/api/materials/{pdf.id}/download", headers=owner.headers)
    assert response.status_code == 200
    assert _common(response) == {"default-src": ["'none'"], "sandbox": []}
    assert response.headers["cache-control"] == "private, no-store"


def test_the_api_docs_load_only_pinned_scripts(http) -> None:  # type: ignore[no-untyped-def]
    page = http.get("/api/docs")
    assert page.status_code == 200
    policy = _common(page)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]

    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)  # nothing inline
    external = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="https://[^"]+"[^>]*>', page.text)
    assert len(external) == 2
    for tag in external:
        assert re.search(r"@\d+\.\d+\.\d+/", tag), tag  # one exact release
        assert re.search(r'integrity="sha384-[A-Za-z0-9+/=]{64}"', tag), tag
        assert 'crossorigin="anonymous"' in tag
    start = http.get("/api/docs/start.js")
    assert start.status_code == 200
    assert "/api/openapi.json" in start.text


def test_over_https_answers_carry_hsts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with serve_api({"VISIO_HTTPS": "on"}, tmp_path / "api.log") as url:
        answer = httpx.get(url + "/api/health")
    assert answer.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize(("env", "secure"), [({"VISIO_HTTPS": "on"}, True), ({}, False)])
def test_the_login_cookie_is_secure_over_https(env, secure) -> None:  # type: ignore[no-untyped-def]
    script = (
        "import json; from visio.state.app import AppState; "
        "print(json.dumps(vars(AppState.get_fields()['token'].default)))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("VISIO_HTTPS", "VISIO_ENV")}
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    cookie = json.loads(out.stdout.strip().splitlines()[-1])
    assert (cookie["name"], cookie["secure"], cookie["same_site"]) == (
        "visio_token",
        secure,
        "strict",
    )
