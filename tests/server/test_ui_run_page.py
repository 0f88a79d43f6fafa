"""The run page as served (SQLite and PostgreSQL): a header that says what the run was asked,
what it answered, why it failed and what it spent; each distinct list of offered tools shown
once and referred to by each model call; a context window that repeats the previous call's
shows the shared messages collapsed."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from long_run_data import TOOLS, long_run
from server_support import Keys

from agentdeck.store import SqlStore


def _page(client: TestClient, keys: Keys, store: SqlStore) -> tuple[str, dict]:
    run, spans, ids = long_run()
    store.write_batch([run], spans)
    resp = client.get(f"/ui/runs/{ids['trace_id']}", headers=keys.header("read"))
    assert resp.status_code == 200
    return resp.text, ids


def _element(page: str, element_id: str) -> str:
    m = re.search(rf'id="{element_id}"[^>]*>(.*?)</(pre|dd|p|div)>', page, re.S)
    assert m is not None, element_id
    return html.unescape(re.sub(r"<[^>]+>", "", m.group(1))).strip()


def test_the_header_shows_input_output_tokens_and_the_root_cause(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    page, ids = _page(client, keys, store)
    assert _element(page, "run-input") == ids["question"]
    assert _element(page, "run-output") == ids["answer"]
    tokens_in, tokens_out = ids["tokens"]
    assert _element(page, "run-tokens").startswith(f"{tokens_in + tokens_out:,} ")
    assert f"{tokens_in:,} in / {tokens_out:,} out, 10 model calls" in _element(page, "run-tokens")
    assert _element(page, "run-cost") == "not priced"  # the run record carries no cost
    cause = re.search(r'id="rca-cause"><a class="mono" href="#step-([0-9a-f]+)"', page)
    assert cause is not None and cause.group(1) == ids["failing"]
    assert "mail server refused: no recipient" in _element(page, "rca-cause")


def test_a_run_that_went_well_has_no_root_cause_section(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    from demo_data import demo_run

    run, spans = demo_run()
    store.write_batch([run], spans)
    page = client.get(f"/ui/runs/{run.trace_id}", headers=keys.header("read")).text
    assert 'id="run-header"' in page and 'id="run-rca"' not in page
    assert _element(page, "run-input") == "Refund order A-17 please"


def test_offered_tools_are_listed_once_and_each_model_call_refers_to_its_set(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    page, _ = _page(client, keys, store)
    description = TOOLS[0]["function"]["description"]
    assert html.unescape(page).count(description) == 1  # 9 model calls were offered it
    sets = re.findall(r'<details class="toolset" id="(tools-[0-9a-f]{12})"', page)
    assert len(sets) == 2  # the triage agent's list and the billing agent's
    refs = re.findall(r'<p class="tools-ref">Tools offered: <a href="#(tools-[0-9a-f]{12})">', page)
    assert len(refs) == 10 and set(refs) == set(sets)
    assert refs.count(sets[1]) == 9
    assert "offered to 9 model calls" in page


def test_a_context_window_shows_what_is_new_since_the_previous_call(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    page, _ = _page(client, keys, store)
    # the billing agent's 9 calls: each after the first repeats the previous window, + 2 messages
    shared = re.findall(r"messages 1–(\d+): as in <a href=\"#step-[0-9a-f]+\">step #(\d+)", page)
    assert [int(n) for n, _ in shared] == [2 + 2 * i for i in range(8)]
    assert page.count('<ol class="messages" start=') == 10
