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
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None


def _bool(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    return default if raw == "" else raw in ("1", "true", "yes", "on")


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


_REMINDER_UNITS = {"m": 60, "h": 3600, "d": 86400}


def parse_reminders(raw: str) -> tuple[int, ...]:
    """`24h,1h,15m` as seconds before the start, largest first; an empty string means none."""
    found: set[int] = set()
    for item in (part.strip().lower() for part in raw.split(",")):
        if not item:
            continue
        match = re.fullmatch(r"([0-9]{1,4})\s*([mhd])", item)
        if match is None or int(match.group(1)) == 0:
            raise ValueError(
                f"VISIO_REMINDERS: {item!r} is not a delay before the start like 24h, 1h, 15m "
                "or 2d (a comma list; empty for no reminders)"
            )
        found.add(int(match.group(1)) * _REMINDER_UNITS[match.group(2)])
    return tuple(sorted(found, reverse=True))


def _reminders() -> tuple[int, ...]:
    raw = os.environ.get("VISIO_REMINDERS")
    return parse_reminders("24h,1h" if raw is None else raw)


def _https(env: str) -> bool:
    """VISIO_HTTPS=on/off; on by default in production, which is served over https."""
    default = "on" if env == "production" else "off"
    return _str("VISIO_HTTPS", default).lower() in ("on", "true", "1", "yes")


def _default_hot_threads() -> int:
    return 1 if _str("REFLEX_DB_URL", DEFAULT_DB_URL).startswith("sqlite") else 4


@dataclass(frozen=True)
class Settings:
    """Visio's configuration; one instance, `settings`, is built at import."""

    env: str = field(default_factory=lambda: _str("VISIO_ENV", "development"))
    # Production that is a public demonstration: demo money and demo accounts allowed.
    allow_demo: bool = field(default_factory=lambda: _bool("VISIO_ALLOW_DEMO", False))
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
    # The smallest payout a teacher may ask for.
    payout_min_cents: int = field(default_factory=lambda: _int("VISIO_PAYOUT_MIN_CENTS", 1000))
    jitsi_domain: str = field(default_factory=lambda: _str("JITSI_DOMAIN", "meet.jit.si"))
    join_opens_minutes: int = field(default_factory=lambda: _int("JOIN_OPENS_MINUTES", 10))
    # With students enrolled, a session moves earlier only with this much notice.
    min_notice_hours: int = field(default_factory=lambda: _int("VISIO_MIN_NOTICE_HOURS", 24))
    # Self-hosted Jitsi or JaaS with token auth: both set, each join gets its own signed JWT.
    jitsi_app_id: str = field(default_factory=lambda: _str("VISIO_JITSI_APP_ID", ""))
    jitsi_app_secret: str = field(
        default_factory=lambda: _str("VISIO_JITSI_APP_SECRET", ""), repr=False
    )
    # How often the in-app room reports that it is still open (time attended comes from it).
    heartbeat_seconds: int = field(default_factory=lambda: _int("VISIO_HEARTBEAT_SECONDS", 30))
    token_ttl_hours: int = field(default_factory=lambda: _int("VISIO_TOKEN_TTL_HOURS", 24 * 14))
    # Throttling (visio/services/rate_limits.py), counted per window of this many minutes and
    # sized for a class that registers and logs in together from one school address.
    # "off" is for load tests only: refused in production.
    rate_limits: str = field(default_factory=lambda: _str("VISIO_RATE_LIMITS", "on"))
    rate_window_minutes: int = field(default_factory=lambda: _int("VISIO_RATE_WINDOW_MINUTES", 15))
    login_max_failures: int = field(default_factory=lambda: _int("VISIO_LOGIN_MAX_FAILURES", 5))
    login_max_per_email: int = field(default_factory=lambda: _int("VISIO_LOGIN_MAX_PER_EMAIL", 20))
    login_max_per_address: int = field(
        default_factory=lambda: _int("VISIO_LOGIN_MAX_PER_ADDRESS", 100)
    )
    register_max_per_address: int = field(
        default_factory=lambda: _int("VISIO_REGISTER_MAX_PER_ADDRESS", 60)
    )
    # Password-reset requests per client address and per email in a window (a class that all
    # forgot on the first day shares one address).
    reset_max_per_address: int = field(
        default_factory=lambda: _int("VISIO_RESET_MAX_PER_ADDRESS", 30)
    )
    reset_max_per_email: int = field(default_factory=lambda: _int("VISIO_RESET_MAX_PER_EMAIL", 3))
    known_address_days: int = field(default_factory=lambda: _int("VISIO_KNOWN_ADDRESS_DAYS", 90))
    # X-Forwarded-For is believed only through this many reverse proxies (Reflex reads it too).
    trusted_proxy_hops: int = field(default_factory=lambda: _int("REFLEX_TRUSTED_PROXY_HOPS", 0))
    # Password hashes computed at once per worker (argon2 takes memory_kib each); a request
    # that waits longer than hash_wait_seconds for a turn is answered "busy, try again".
    hash_concurrency: int = field(default_factory=lambda: _int("VISIO_HASH_CONCURRENCY", 2))
    hash_wait_seconds: int = field(default_factory=lambda: _int("VISIO_HASH_WAIT_SECONDS", 10))
    # argon2 cost; tests lower it so that hashing does not dominate the suite.
    argon2_time_cost: int = field(default_factory=lambda: _int("VISIO_ARGON2_TIME_COST", 3))
    argon2_memory_kib: int = field(default_factory=lambda: _int("VISIO_ARGON2_MEMORY_KIB", 65536))
    # Only accounts that proved their address (the mailed link) may pay or top up. Off by default
    # so that API clients that register and pay at once keep working.
    require_verified_email: bool = field(
        default_factory=lambda: _bool("VISIO_REQUIRE_VERIFIED_EMAIL", False)
    )
    payment_provider: str = field(default_factory=lambda: _str("VISIO_PAYMENT_PROVIDER", "demo"))
    max_upload_bytes: int = field(
        default_factory=lambda: _int("VISIO_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
    )
    # Any request body but a file upload (JSON, forms): larger ones are refused unread (413).
    max_body_bytes: int = field(default_factory=lambda: _int("VISIO_MAX_BODY_BYTES", 64 * 1024))
    storage_dir: Path = field(
        default_factory=lambda: Path(_str("VISIO_STORAGE_DIR", str(ROOT / "data" / "files")))
    )
    # Where `make backup` writes its archives (python -m visio.backup).
    backup_dir: Path = field(
        default_factory=lambda: Path(_str("VISIO_BACKUP_DIR", str(ROOT / "data" / "backups")))
    )
    # Mail: an SMTP server (smtp://user:pass@host:587, STARTTLS when offered; smtps:// for TLS),
    # or none: every mail is written as an .eml file under mail_dir and its subject logged.
    smtp_url: str = field(default_factory=lambda: _str("VISIO_SMTP_URL", ""), repr=False)
    mail_from: str = field(
        default_factory=lambda: _str("VISIO_MAIL_FROM", "Visio <no-reply@localhost>")
    )
    mail_dir: Path = field(
        default_factory=lambda: Path(_str("VISIO_MAIL_DIR", str(ROOT / "data" / "mail")))
    )
    # The base of every link in a mail.
    public_url: str = field(
        default_factory=lambda: _str(
            "VISIO_PUBLIC_URL", f"http://localhost:{_int('PORT', 3000)}"
        ).rstrip("/")
    )
    # How often each worker delivers the notices that are due.
    outbox_every_seconds: int = field(default_factory=lambda: _int("VISIO_OUTBOX_EVERY_SECONDS", 5))
    # Reminders before a session's start, in seconds, largest first (VISIO_REMINDERS=24h,1h).
    reminders: tuple[int, ...] = field(default_factory=_reminders)
    # 10 + 30 = 40: as many as the threads that serve the API's requests in one worker.
    db_pool_size: int = field(default_factory=lambda: _int("VISIO_DB_POOL_SIZE", 10))
    db_max_overflow: int = field(default_factory=lambda: _int("VISIO_DB_MAX_OVERFLOW", 30))
    db_lock_timeout_seconds: int = field(
        default_factory=lambda: _int("VISIO_DB_LOCK_TIMEOUT_SECONDS", 10)
    )
    # The API's seat claims run at most this many at once per worker, the rest wait their turn:
    # more threads only take turns at Python's lock, and under 50 clients the work got slower,
    # not faster (bench/: 4 measured best on 2 cores with PostgreSQL). On SQLite, one: the
    # database has one writer at a time, and the claims that wait for it sleep in SQLite's busy
    # handler (1, 2, 5, 10 ms...) where a queue in Python hands the turn over at once.
    api_hot_threads: int = field(
        default_factory=lambda: _int("VISIO_API_HOT_THREADS", _default_hot_threads())
    )
    # Operations: /metrics needs `Authorization: Bearer <this>` when set, else only this
    # machine (a loopback peer, not forwarded by a proxy) may read it.
    metrics_token: str = field(default_factory=lambda: _str("VISIO_METRICS_TOKEN", ""), repr=False)
    # Where the workers keep their request counters (one folder per running server).
    metrics_dir: Path = field(
        default_factory=lambda: Path(_str("VISIO_METRICS_DIR", str(ROOT / "data" / "metrics")))
    )
    # /ready gives up on the database or Redis after this long (and answers 503).
    ready_timeout_seconds: float = field(
        default_factory=lambda: float(_str("VISIO_READY_TIMEOUT_SECONDS", "2"))
    )
    # `text` (a readable line) or `json` (one object a line, for log collectors).
    log_format: str = field(default_factory=lambda: _str("VISIO_LOG_FORMAT", "text").lower())

    def __post_init__(self) -> None:
        if self.rate_limits not in ("on", "off"):
            raise ValueError(f"VISIO_RATE_LIMITS must be on or off, not {self.rate_limits!r}")
        if self.is_production and not self.rate_limits_on:
            raise ValueError("VISIO_RATE_LIMITS=off is for load tests: refused in production")
        if self.log_format not in ("text", "json"):
            raise ValueError(f"VISIO_LOG_FORMAT must be text or json, not {self.log_format!r}")
        if not 0 < self.ready_timeout_seconds <= 60:
            raise ValueError("VISIO_READY_TIMEOUT_SECONDS must be more than 0 and at most 60")
        if not 1 <= self.api_hot_threads <= self.db_pool_size + self.db_max_overflow:
            raise ValueError(
                "VISIO_API_HOT_THREADS must be at least 1 and at most the connections "
                "(VISIO_DB_POOL_SIZE + VISIO_DB_MAX_OVERFLOW)"
            )

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def rate_limits_on(self) -> bool:
        return self.rate_limits == "on"

    @property
    def jitsi_uses_jwt(self) -> bool:
        return bool(self.jitsi_app_id and self.jitsi_app_secret)

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")


try:
    settings = Settings()
except ValueError as _error:  # a message for the operator, not a traceback
    raise SystemExit(f"Visio cannot start: {_error}") from None
