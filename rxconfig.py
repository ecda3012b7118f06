"""Reflex configuration. Every value can be overridden by a REFLEX_* environment variable."""

import os

# No calls home: neither the version check nor telemetry (set before reflex reads them).
os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")
os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
os.environ.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org")

import reflex as rx  # noqa: E402

from visio.settings import settings  # noqa: E402

config = rx.Config(
    app_name="visio",
    db_url=settings.db_url,
    redis_url=settings.redis_url or None,
    trusted_proxy_hops=settings.trusted_proxy_hops,  # X-Forwarded-For, for pages and API alike
    # Reflex's default, "*", echoes any Origin with credentials: only the allowlist, if any.
    cors_allowed_origins=settings.cors_origins,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[rx.plugins.SitemapPlugin],
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="violet", gray_color="slate", radius="large")
        ),
    ],
)
