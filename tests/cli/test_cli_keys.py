"""``agentdeck keys``: create shows the key once (stored hashed), list never shows it, revoke."""

from __future__ import annotations

from agentdeck.registry.keys import authenticate
from agentdeck.store import open_store
from foundation import Cli


def test_keys_create_shows_the_key_once_and_list_and_revoke_work(cli: Cli, db_url: str) -> None:
    made = cli("keys", "create", "--name", "ci-bot", "--scope", "ingest", "--scope", "read")
    assert made.code == 0, made.err
    token = made.out.strip().splitlines()[-1]
    assert token.startswith("ak_")
    store = open_store(db_url)
    principal = authenticate(store, token)
    assert principal is not None and {s.value for s in principal.scopes} == {"ingest", "read"}
    listed = cli("keys", "list")
    secret = token.split("_", 2)[2]  # ak_<id>_<secret>; the secret itself may contain "_"
    assert len(secret) >= 16
    assert "ci-bot" in listed.out and token not in listed.out and secret not in listed.out
    assert cli("keys", "revoke", "ci-bot").code == 0
    assert authenticate(store, token) is None
    assert cli("keys", "create", "--name", "x", "--scope", "root").code == 2
