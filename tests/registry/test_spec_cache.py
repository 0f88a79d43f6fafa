"""The on-disk spec/policy cache: 0600 files in 0700 directories, written atomically, keyed by
digest, bounded in entries and bytes; a corrupt entry is a miss. And the resolver on top of it:
a source that is down serves the last resolved spec, marked with when it was saved."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agentdeck.core.errors import StoreError, UnresolvedReferenceError
from agentdeck.core.spec.agent import AgentSpec, ModelSpec, ResolvedAgent
from agentdeck.registry.resolver import RefreshingResolver, ResolveTimeout
from agentdeck.registry.spec_cache import DiskCache

V1 = AgentSpec("bot", ModelSpec("openai", "gpt-4o-2024-08-06"), system_prompt="v1")
V2 = AgentSpec("bot", ModelSpec("openai", "gpt-4o-2024-08-06"), system_prompt="v2")


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_files_are_0600_in_0700_directories_and_no_temporary_file_is_left(
    tmp_path: Path,
) -> None:
    old = os.umask(0o022)
    try:
        cache = DiskCache(tmp_path / "cache")
        assert cache.put("spec", "bot@production", V1.digest, V1.to_dict(), {"version": 1})
    finally:
        os.umask(old)
    dirs = [tmp_path / "cache", tmp_path / "cache" / "refs", tmp_path / "cache" / "objects"]
    assert [_mode(d) for d in dirs] == [0o700] * 3
    files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert len(files) == 2 and all(_mode(f) == 0o600 for f in files)
    assert not [f for f in files if f.name.startswith(".tmp")]
    obj = tmp_path / "cache" / "objects" / (V1.digest.replace(":", "-") + ".json")
    assert json.loads(obj.read_text()) == json.loads(json.dumps(V1.to_dict()))  # by digest
    hit = cache.get("spec", "bot@production")
    assert hit is not None and hit.digest == V1.digest and hit.meta == {"version": 1}
    assert cache.get("policy", "bot@production") is None  # kinds never mix


def test_two_refs_to_one_digest_share_one_object(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    cache.put("spec", "bot@1", V1.digest, V1.to_dict())
    cache.put("spec", "bot@production", V1.digest, V1.to_dict())
    assert len(list((tmp_path / "objects").iterdir())) == 1
    assert len(list((tmp_path / "refs").iterdir())) == 2


def test_the_cache_is_bounded_in_entries_and_in_bytes(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "n", max_entries=3)
    for i in range(6):
        spec = AgentSpec("bot", ModelSpec("openai", "m"), system_prompt=f"v{i}")
        cache.put("spec", f"bot@{i + 1}", spec.digest, spec.to_dict())
        time.sleep(0.01)  # distinct mtimes: the oldest go first
    kept = [r for r in (f"bot@{i + 1}" for i in range(6)) if cache.get("spec", r) is not None]
    assert kept == ["bot@4", "bot@5", "bot@6"]
    assert len(list((tmp_path / "n" / "objects").iterdir())) == 3  # orphans removed

    small = DiskCache(tmp_path / "b", max_bytes=4000)
    for i in range(20):
        spec = AgentSpec("bot", ModelSpec("openai", "m"), system_prompt="x" * 500 + str(i))
        small.put("spec", f"bot@{i + 1}", spec.digest, spec.to_dict())
    total = sum(p.stat().st_size for p in (tmp_path / "b").rglob("*.json"))
    assert 0 < total <= 4000
    assert small.get("spec", "bot@20") is not None


def test_a_corrupt_or_edited_entry_is_a_miss(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    cache.put("spec", "bot@production", V1.digest, V1.to_dict(), {"name": "bot", "version": 1})
    obj = tmp_path / "objects" / (V1.digest.replace(":", "-") + ".json")
    resolver = RefreshingResolver(_failing("down"), disk=cache, timeout=5)
    assert resolver.resolve("bot@production").digest == V1.digest
    obj.write_text(json.dumps(V2.to_dict()))  # edited: no longer hashes to its digest
    with pytest.raises(StoreError, match="down"):
        RefreshingResolver(_failing("down"), disk=cache, timeout=5).resolve("bot@production")
    obj.write_text("{not json")
    assert cache.get("spec", "bot@production") is None


def test_an_unwritable_cache_is_only_a_miss(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    cache = DiskCache(tmp_path / "file" / "cache")
    assert cache.put("spec", "bot@1", V1.digest, V1.to_dict()) is False
    assert cache.get("spec", "bot@1") is None


# -- the resolver on top -----------------------------------------------------------------------


def _failing(message: str) -> Callable[[str], ResolvedAgent]:
    def fetch(ref: str) -> ResolvedAgent:
        raise StoreError(message)

    return fetch


class Source:
    """A registry stand-in that can go down; ``production`` can be re-pointed."""

    def __init__(self) -> None:
        self.down = False
        self.spec = V1
        self.calls = 0

    def resolve(self, ref: str) -> ResolvedAgent:
        self.calls += 1
        if self.down:
            raise StoreError("connection refused")
        if ref == "bot@prod":
            raise UnresolvedReferenceError(ref, "no such environment")
        version = 1 if self.spec is V1 else 2
        return ResolvedAgent("bot", version, self.spec.digest, self.spec, env="production",
                             deployment_id="d1")  # fmt: skip


def test_a_source_that_is_down_serves_the_last_resolved_spec_with_its_date(
    tmp_path: Path,
) -> None:
    src = Source()
    first = RefreshingResolver(src.resolve, disk=DiskCache(tmp_path), timeout=5)
    assert first.resolve_detailed("bot@production").cached_at is None
    src.down = True
    later = RefreshingResolver(src.resolve, disk=DiskCache(tmp_path), timeout=5)  # new process
    res = later.resolve_detailed("bot@production")
    assert res.agent.digest == V1.digest and res.agent.deployment_id == "d1"
    assert res.cached_at is not None


def test_a_cached_env_ref_is_served_at_once_and_refreshed_off_thread(tmp_path: Path) -> None:
    src = Source()
    RefreshingResolver(src.resolve, disk=DiskCache(tmp_path), timeout=5).resolve("bot@production")
    src.spec = V2  # deployed since
    r = RefreshingResolver(src.resolve, disk=DiskCache(tmp_path), timeout=5)
    assert r.resolve("bot@production").digest == V1.digest  # the cached answer, at once
    deadline = time.monotonic() + 10
    while r.resolve("bot@production").digest != V2.digest:
        assert time.monotonic() < deadline, "the background refresh never landed"
        time.sleep(0.02)
    assert r.resolve_detailed("bot@production").cached_at is None


def test_an_unknown_reference_is_never_answered_from_the_cache(tmp_path: Path) -> None:
    src = Source()
    r = RefreshingResolver(src.resolve, disk=DiskCache(tmp_path), timeout=5)
    with pytest.raises(UnresolvedReferenceError):
        r.resolve("bot@prod")
    assert DiskCache(tmp_path).get("spec", "bot@prod") is None


def test_with_nothing_cached_a_hung_source_costs_at_most_the_timeout(tmp_path: Path) -> None:
    release = threading.Event()

    def hung(ref: str) -> ResolvedAgent:
        release.wait(30)
        raise StoreError("too late")

    r = RefreshingResolver(hung, disk=DiskCache(tmp_path), timeout=0.2, ttl=60)
    t0 = time.monotonic()
    with pytest.raises(ResolveTimeout, match=r"no answer within 0\.2 s"):
        r.resolve("bot@production")
    with pytest.raises(ResolveTimeout):  # remembered for ttl: not waited for again
        r.resolve("bot@production")
    assert time.monotonic() - t0 < 10
    release.set()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_wait_on_its_parents_fetch_threads(tmp_path: Path) -> None:
    parent = os.getpid()
    release = threading.Event()

    def fetch(ref: str) -> ResolvedAgent:
        if os.getpid() == parent:
            release.wait(30)  # the parent's fetch hangs
            raise StoreError("too late")
        return ResolvedAgent("bot", 1, V1.digest, V1, env="production")

    r = RefreshingResolver(fetch, timeout=0.2, ttl=0)
    with pytest.raises(ResolveTimeout):
        r.resolve("bot@production")  # leaves a fetch in flight in the parent
    pid = os.fork()
    if pid == 0:  # the child: its own fetch, answered at once
        try:
            code = 0 if r.resolve("bot@production").digest == V1.digest else 1
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    release.set()
    assert os.waitstatus_to_exitcode(status) == 0
