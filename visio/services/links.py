"""Checking links people will open: https only, on the platform's own hosts for Zoom and Teams,
never at the opener's own machine or network (loopback, private, link-local addresses), where a
link could reach a router's or a local service's page with the student's browser."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from visio.services.errors import InvalidInput

PLATFORM_HOSTS = {
    "zoom": ("zoom.us", "zoom.com", "zoomgov.com"),
    "teams": ("teams.microsoft.com", "teams.live.com"),
}
MAX_URL_LENGTH = 2048
LOCAL_NAMES = ("localhost", "localdomain", "local", "internal", "home.arpa", "lan")


def _ip_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host literal names, in any form a browser reads (0x7f.1, 2130706433...)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host):
        try:  # the shorthand and hex forms browsers accept for IPv4
            return ipaddress.ip_address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def points_inside(host: str) -> bool:
    """The host is the opener's own machine or network, not a public service."""
    name = host.rstrip(".").lower()
    if any(name == n or name.endswith("." + n) for n in LOCAL_NAMES):
        return True
    ip = _ip_of(name)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


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
    if not host or parts.username or parts.password:
        raise InvalidInput("link_invalid", field=field)
    if points_inside(host):
        raise InvalidInput("link_private_address", field=field)
    if "." not in host:
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


def safe_next_path(path: str | None, fallback: str) -> str:
    """Where to go after logging in: a path of this site, else `fallback` (no open redirect).

    Browsers drop tabs and line breaks inside a URL and read a backslash as a slash, so
    `/\\t/evil.example` would become `//evil.example`, another site: any such character refuses
    the path, as does anything with a scheme or a host.
    """
    if not path or len(path) > MAX_URL_LENGTH or not path.startswith("/"):
        return fallback
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in path):
        return fallback
    try:
        parts = urlsplit(path)
    except ValueError:
        return fallback
    if path.startswith("//") or parts.scheme or parts.netloc:
        return fallback
    return path
