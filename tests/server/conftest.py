"""Server test plumbing: an app on the ``store`` fixture (SQLite and PostgreSQL), keys of each
scope, and a TestClient that runs the app's lifespan (so the ingest writer is running)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from server_support import Keys, make_keys

from agentdeck.server.app import create_app
from agentdeck.server.settings import ServerSettings
from agentdeck.store import SqlStore


@pytest.fixture
def keys(store: SqlStore) -> Keys:
    return make_keys(store)


@pytest.fixture
def settings() -> ServerSettings:
    return ServerSettings()


@pytest.fixture
def client(store: SqlStore, settings: ServerSettings) -> Iterator[TestClient]:
    with TestClient(create_app(store, settings)) as c:
        yield c
