"""SQLModel tables only: no queries, no rules. Importing this package registers every table."""

from visio.models.accounts import AuthSession, KnownAddress, RateCounter, Role, User
from visio.models.audit import AuditEvent
from visio.models.idempotency import IdempotencyKey
from visio.models.money import (
    EntryKind,
    LedgerEntry,
    Purchase,
    PurchaseStatus,
    Wallet,
    WalletKind,
)
from visio.models.notices import (
    EmailToken,
    Notice,
    NoticePreference,
    NoticeStatus,
    PasswordReset,
)
from visio.models.sessions import (
    Attendance,
    EffectiveStatus,
    Enrollment,
    EnrollmentStatus,
    Material,
    MaterialKind,
    Platform,
    Series,
    SessionTag,
    StoredStatus,
    Tag,
    VideoSession,
    WaitlistEntry,
    WaitlistStatus,
)

__all__ = [
    "Attendance",
    "AuditEvent",
    "AuthSession",
    "EffectiveStatus",
    "EmailToken",
    "Enrollment",
    "EnrollmentStatus",
    "EntryKind",
    "IdempotencyKey",
    "KnownAddress",
    "LedgerEntry",
    "Material",
    "MaterialKind",
    "Notice",
    "NoticePreference",
    "NoticeStatus",
    "PasswordReset",
    "Platform",
    "Purchase",
    "PurchaseStatus",
    "RateCounter",
    "Role",
    "Series",
    "SessionTag",
    "StoredStatus",
    "Tag",
    "User",
    "VideoSession",
    "Wallet",
    "WaitlistEntry",
    "WaitlistStatus",
    "WalletKind",
]
