"""Who may call the server: stored API keys and UI sessions (hashes only, never secrets).

Values only; :class:`agentdeck.store.protocol.KeyStore` persists them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ApiKeyRecord:
    """A stored API key: never the secret, only its hash (see ``agentdeck.server.auth``).

    ``scopes`` are scope names (``ingest``, ``read``, ``deploy``, ``admin``); a key whose
    ``revoked_at`` is set authenticates nothing. ``agents`` are the agent name patterns
    (``support-*``) the key may act on; empty: every agent. ``project`` is the project the key
    belongs to (and acts in); ``all_projects``: an admin key of ``default`` that may act in any
    project, chosen per request.
    """

    id: str
    name: str
    secret_hash: str
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    agents: tuple[str, ...] = ()
    project: str = "default"
    all_projects: bool = False


@dataclass(frozen=True)
class SessionRecord:
    """A UI session: only the sha256 of its token is stored (migration ``0011``)."""

    token_hash: str
    key_id: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None = None
