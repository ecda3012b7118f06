"""Every Visio setting, read once from the environment, in one typed place."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_URL = f"sqlite:///{ROOT / 'data' / 'visio.db'}"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _str(name: str, default: str) -> str:
    raw = os.environ.get(name)
    return raw if raw not in (None, "") else default


def _origins(name: str) -> tuple[str, ...]:
    """A comma-separated allowlist of web origins (`https://host[:port]`); never `null` or `*`."""
    found = tuple(o.strip().rstrip("/") for o in os.environ.get(name, "").split(",") if o.strip())
    for origin in found:
        if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", origin):
            raise ValueError(f"{name}: {origin!r} is not an origin like https://lms.example.org")
    return found


def _https(env: str) -> bool:
    """VISIO_HTTPS=on/off; on by default in production, which is served over https."""
    default = "on" if env == "production" else "off"
    return _str("VISIO_HTTPS", default).lower() in ("on", "true", "1", "yes")


@dataclass(frozen=True)
class Settings:
    """Visio's configuration; one instance, `settings`, is built at import."""

    env: str = field(default_factory=lambda: _str("VISIO_ENV", "development"))
    # Other sites whose pages may call the API (with a bearer token); none by default.
    cors_origins: tuple[str, ...] = field(default_factory=lambda: _origins("VISIO_CORS_ORIGINS"))
    # Served over https (directly or behind a TLS proxy): Secure login cookie, HSTS.
    https: bool = field(default_factory=lambda: _https(_str("VISIO_ENV", "development")))
    db_url: str = field(default_factory=lambda: _str("REFLEX_DB_URL", DEFAULT_DB_URL))
    redis_url: str = field(default_factory=lambda: _str("REFLEX_REDIS_URL", ""))
    currency: str = field(default_factory=lambda: _str("VISIO_CURRENCY", "EUR"))
    default_locale: str = field(default_factory=lambda: _str("VISIO_DEFAULT_LOCALE", "fr"))
    default_timezone: str = field(
        default_factory=lambda: _str("VISIO_DEFAULT_TIMEZONE", "Europe/Paris")
    )
    jitsi_domain: str = field(default_factory=lambda: _str("JITSI_DOMAIN", "meet.jit.si"))
    join_opens_minutes: int = field(default_factory=lambda: _int("JOIN_OPENS_MINUTES", 10))
    # Self-hosted Jitsi or JaaS with token auth: both set, each join gets its own signed JWT.
    jitsi_app_id: str = field(default_factory=lambda: _str("VISIO_JITSI_APP_ID", ""))
    jitsi_app_secret: str = field(
        default_factory=lambda: _str("VISIO_JITSI_APP_SECRET", ""), repr=False
    )
    # How often the in-app room reports that it is still open (time attended comes from it).
    heartbeat_seconds: int = field(default_factory=lambda: _int("VISIO_HEARTBEAT_SECONDS", 30))
    token_ttl_hours: int = field(default_factory=lambda: _int("VISIO_TOKEN_TTL_HOURS", 24 * 14))
    login_max_failures: int = field(default_factory=lambda: _int("VISIO_LOGIN_MAX_FAILURES", 5))
    login_window_minutes: int = field(
        default_factory=lambda: _int("VISIO_LOGIN_WINDOW_MINUTES", 15)
    )
    # argon2 cost; tests lower it so that hashing does not dominate the suite.
    argon2_time_cost: int = field(default_factory=lambda: _int("VISIO_ARGON2_TIME_COST", 3))
    argon2_memory_kib: int = field(default_factory=lambda: _int("VISIO_ARGON2_MEMORY_KIB", 65536))
    payment_provider: str = field(default_factory=lambda: _str("VISIO_PAYMENT_PROVIDER", "demo"))
    max_upload_bytes: int = field(
        default_factory=lambda: _int("VISIO_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
    )
    storage_dir: Path = field(
        default_factory=lambda: Path(_str("VISIO_STORAGE_DIR", str(ROOT / "data" / "files")))
    )
    # 10 + 30 = 40: as many as the threads that serve the API's requests in one worker.
    db_pool_size: int = field(default_factory=lambda: _int("VISIO_DB_POOL_SIZE", 10))
    db_max_overflow: int = field(default_factory=lambda: _int("VISIO_DB_MAX_OVERFLOW", 30))
    db_lock_timeout_seconds: int = field(
        default_factory=lambda: _int("VISIO_DB_LOCK_TIMEOUT_SECONDS", 10)
    )

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def jitsi_uses_jwt(self) -> bool:
        return bool(self.jitsi_app_id and self.jitsi_app_secret)

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")


settings = Settings()
