"""An app factory for ASGI servers: ``uvicorn --factory agentdeck.server.asgi:app_from_env``.

The store comes from ``AGENTDECK_DATABASE_URL`` and the settings from ``AGENTDECK_*`` (see
:mod:`agentdeck.server.settings`); ``agentdeck serve`` runs exactly this.
"""

from __future__ import annotations

from fastapi import FastAPI

from agentdeck.server.app import create_app
from agentdeck.server.settings import ServerSettings
from agentdeck.store import open_store


def app_from_env() -> FastAPI:
    return create_app(open_store(), ServerSettings.from_env())
