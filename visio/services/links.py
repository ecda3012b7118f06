"""Checking video-conference links: https only, on the platform's own hosts for Zoom and Teams."""

from __future__ import annotations

from urllib.parse import urlsplit

from visio.services.errors import InvalidInput

PLATFORM_HOSTS = {
    "zoom": ("zoom.us", "zoom.com", "zoomgov.com"),
    "teams": ("teams.microsoft.com", "teams.live.com"),
}
MAX_URL_LENGTH = 2048


def _on_host(host: str, allowed: tuple[str, ...]) -> bool:
    return any(host == h or host.endswith("." + h) for h in allowed)


def check_https_url(url: str, *, field: str = "link") -> str:
    """The URL, stripped, if it is a plain https link (no javascript:, data:, http: or junk)."""
    value = (url or "").strip()
    if not value:
        raise InvalidInput("link_required", field=field)
    if len(value) > MAX_URL_LENGTH:
        raise InvalidInput("link_too_long", field=field, max=MAX_URL_LENGTH)
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise InvalidInput("link_invalid", field=field)
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise InvalidInput("link_invalid", field=field) from None
    if parts.scheme.lower() != "https":
        raise InvalidInput("link_not_https", field=field)
    if not host or "." not in host or parts.username or parts.password:
        raise InvalidInput("link_invalid", field=field)
    return value


def check_platform_link(platform: str, url: str) -> str:
    """A link acceptable for the platform (Zoom and Teams links must be on their hosts)."""
    value = check_https_url(url)
    allowed = PLATFORM_HOSTS.get(platform)
    if allowed and not _on_host((urlsplit(value).hostname or "").lower(), allowed):
        raise InvalidInput(
            "link_wrong_host", field="link", platform=platform, hosts=", ".join(allowed)
        )
    return value
