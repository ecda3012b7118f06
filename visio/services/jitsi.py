"""Jitsi rooms: the participant's meeting URL (with its own JWT when token auth is set up).

The in-app room page embeds the meeting in an `<iframe>` whose address is the meeting URL with the
participant's settings in its fragment (`#userInfo.displayName="Léa"&config.prejoinPageEnabled=
false`), not through Jitsi's IFrame API script (`https://{JITSI_DOMAIN}/external_api.js`). That
script is only a helper that builds this very iframe from the same options (Jitsi reads them back
from the fragment); driving it would take hand-written JavaScript (`new JitsiMeetExternalAPI(...)`)
or a custom React wrapper, which this project does not ship. What the script would add (events such
as "participant left", commands such as hang-up) is not needed: the room page measures presence with
its own heartbeat, and "Leave" is the page's own button.

With VISIO_JITSI_APP_ID and VISIO_JITSI_APP_SECRET set (self-hosted Jitsi with token auth, or JaaS),
each join gets an HS256 token bound to the room, valid only for the join window, that makes the
owning teacher, and only them, a moderator. Without them the public room link is used; note that
meet.jit.si limits embedded meetings (a few minutes, then a notice): production should point
JITSI_DOMAIN at its own Jitsi or at JaaS.
"""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import quote, urlsplit

import jwt

from visio.models import Platform, User, VideoSession
from visio.settings import settings

AUDIENCE = "jitsi"


def is_jitsi(session: VideoSession) -> bool:
    """Jitsi sessions open in the in-app room; other platforms open their link in a new tab."""
    return session.platform == Platform.JITSI


def room_name(session: VideoSession) -> str:
    """The generated room, the last part of the session's link."""
    return urlsplit(session.link).path.strip("/")


def participant_token(
    session: VideoSession,
    user: User,
    *,
    not_before: datetime,
    moderator: bool,
) -> str:
    """A JWT for `user` in this session's room, valid from `not_before` until the session ends."""
    claims = {
        "aud": AUDIENCE,
        "iss": settings.jitsi_app_id,
        "sub": settings.jitsi_domain,
        "room": room_name(session),
        "nbf": int(not_before.timestamp()),
        "exp": int(session.ends_at.timestamp()),
        "context": {
            "user": {
                "id": str(user.id),
                "name": user.full_name,
                "email": user.email,
                "moderator": moderator,
            }
        },
    }
    return jwt.encode(claims, settings.jitsi_app_secret, algorithm="HS256")


def meeting_url(session: VideoSession, user: User, *, not_before: datetime) -> str:
    """The link `user` joins with: the room link, plus their own token when JWTs are set up."""
    if not settings.jitsi_uses_jwt:
        return session.link
    token = participant_token(
        session, user, not_before=not_before, moderator=session.teacher_id == user.id
    )
    return f"{session.link}?jwt={token}"


def embed_url(meeting: str, *, display_name: str, lang: str) -> str:
    """The iframe address: the meeting URL with the participant's settings in its fragment.

    Jitsi reads `key=value` pairs from the fragment, each value URL-encoded JSON.
    """
    options = {
        "userInfo.displayName": display_name,
        "config.prejoinPageEnabled": False,
        "config.prejoinConfig.enabled": False,
        "config.defaultLanguage": lang,
        "config.disableDeepLinking": True,
    }
    fragment = "&".join(
        f"{key}={quote(json.dumps(value, ensure_ascii=False), safe='')}"
        for key, value in options.items()
    )
    return f"{meeting}#{fragment}"
