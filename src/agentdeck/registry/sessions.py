"""UI sessions: a random token in the browser's cookie, only its sha256 stored.

Signing in with an API key opens a session (``open_session``) that acts as that key until it
expires (absolute lifetime), goes unused for longer than the idle timeout, is revoked at
sign-out, or its key is revoked (the store revokes a key's sessions with it). The cookie never
holds the API key, so a stolen cookie dies with the session and logging out ends it for good.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agentdeck.core.access.records import SessionRecord
from agentdeck.registry.keys import Principal, principal_of
from agentdeck.store.protocol import KeyStore

SESSION_PREFIX = "as_"
#: How often at most a session's last use is written (so reads do not all become writes).
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session lives: ``lifetime`` in all, ``idle`` without a request."""

    lifetime: timedelta = timedelta(hours=12)
    idle: timedelta = timedelta(minutes=30)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    store: KeyStore, principal: Principal, policy: SessionPolicy, now: datetime | None = None
) -> str:
    """Store a new session of ``principal``'s key; the returned token is its only copy."""
    now = now or datetime.now(UTC)
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    store.put_session(
        SessionRecord(
            token_hash=_hash(token),
            key_id=principal.key_id,
            created_at=now,
            expires_at=now + policy.lifetime,
            last_seen_at=now,
        )
    )
    return token


def session_principal(
    store: KeyStore, token: str, policy: SessionPolicy, now: datetime | None = None
) -> Principal | None:
    """The principal of a live session, or None (unknown, expired, idle, revoked, key revoked)."""
    if not token.startswith(SESSION_PREFIX):
        return None
    now = now or datetime.now(UTC)
    digest = _hash(token)
    record = store.get_session(digest)
    if record is None or not hmac.compare_digest(record.token_hash, digest):
        return None
    if record.revoked_at is not None or now >= record.expires_at:
        return None
    if now - record.last_seen_at >= policy.idle:
        return None
    key = store.get_api_key(record.key_id)
    if key is None or key.revoked_at is not None:
        return None
    if now - record.last_seen_at >= min(TOUCH_EVERY, policy.idle / 4):
        store.touch_session(digest, now)
    return principal_of(key)


def close_session(store: KeyStore, token: str, now: datetime | None = None) -> None:
    """Revoke a session (sign-out); unknown tokens are ignored."""
    if token.startswith(SESSION_PREFIX):
        store.revoke_session(_hash(token), now or datetime.now(UTC))
