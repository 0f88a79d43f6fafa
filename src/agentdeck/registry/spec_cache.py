"""The on-disk cache of the last resolved agent specs and pinned policies, for outages.

When the server (or the embedded store) cannot be reached, the SDK still knows the last spec
each reference (``name@ENV``, ``name@N``, ...) resolved to and the policy version it pins, so
enforcement uses the last known pinned policy rather than none.

Layout, under one directory (default ``.agentdeck/cache/<source>/``, created ``0700``)::

    objects/sha256-<hex>.json   a spec or policy body, named by its digest (content-addressed)
    refs/<hash of kind+ref>.json  {"kind", "ref", "digest", "saved_at", "meta"}

Every file is written ``0600`` to a temporary name in the same directory and renamed into place
(atomic: a reader sees the old file or the new one, never half of one). The cache is bounded:
after each write the oldest references beyond ``max_entries``, or beyond ``max_bytes`` in all,
are removed, then the objects no reference names. A reader verifies the digest of what it
reads (the caller recomputes it from the body), so a corrupt or edited file is a miss.
Nothing here raises: a cache that cannot be read or written is a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ENTRIES",
    "CachedEntry",
    "DiskCache",
    "cache_dir_for",
    "default_cache",
]

log = logging.getLogger("agentdeck.registry")

DEFAULT_MAX_ENTRIES = 256
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class CachedEntry:
    """What the cache held for a reference: the body, its digest, extra fields, when saved."""

    kind: str
    ref: str
    digest: str
    body: Mapping[str, Any]
    meta: Mapping[str, Any]
    saved_at: datetime


def cache_dir_for(base: str | os.PathLike[str], source: str) -> Path:
    """The cache directory of one source (a server endpoint or a database URL) under ``base``:
    answers of different servers never mix."""
    tag = hashlib.sha256(source.encode("utf-8", "replace")).hexdigest()[:16]
    return Path(base) / tag


class DiskCache:
    """A bounded, content-addressed cache of resolved references; see the module docstring."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.directory = Path(directory)
        self.max_entries = max_entries
        self.max_bytes = max_bytes

    # -- reading --------------------------------------------------------------------------

    def get(self, kind: str, ref: str) -> CachedEntry | None:
        """The entry saved for ``(kind, ref)``, or None (absent, unreadable or malformed)."""
        try:
            index = json.loads(self._ref_path(kind, ref).read_bytes())
            digest = str(index["digest"])
            if index.get("kind") != kind or index.get("ref") != ref or not _DIGEST.match(digest):
                return None
            body = json.loads(self._object_path(digest).read_bytes())
            saved_at = datetime.fromisoformat(str(index["saved_at"]))
            meta = index.get("meta") or {}
            if not isinstance(body, dict) or not isinstance(meta, dict):
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return CachedEntry(kind, ref, digest, body, meta, saved_at)

    # -- writing --------------------------------------------------------------------------

    def put(
        self,
        kind: str,
        ref: str,
        digest: str,
        body: Mapping[str, Any],
        meta: Mapping[str, Any] | None = None,
    ) -> bool:
        """Save ``body`` (whose digest is ``digest``) as what ``(kind, ref)`` resolved to.

        Returns False (and logs once at debug level) when the cache cannot be written."""
        if not _DIGEST.match(digest):
            return False
        try:
            self._ensure_dirs()
            obj = self._object_path(digest)
            if not obj.exists():
                _write_atomic(obj, json.dumps(body, sort_keys=True).encode())
            index = {
                "kind": kind,
                "ref": ref,
                "digest": digest,
                "saved_at": datetime.now(UTC).isoformat(),
                "meta": dict(meta or {}),
            }
            _write_atomic(self._ref_path(kind, ref), json.dumps(index, sort_keys=True).encode())
            self._prune()
        except OSError as exc:
            log.debug("agentdeck: spec cache %s not written: %s", self.directory, exc)
            return False
        return True

    def discard(self, kind: str, ref: str) -> None:
        """Forget ``(kind, ref)`` (the source said it no longer exists)."""
        with contextlib.suppress(OSError):
            self._ref_path(kind, ref).unlink()

    # -- parts ----------------------------------------------------------------------------

    def _ref_path(self, kind: str, ref: str) -> Path:
        key = hashlib.sha256(f"{kind}\0{ref}".encode("utf-8", "replace")).hexdigest()[:32]
        return self.directory / "refs" / f"{key}.json"

    def _object_path(self, digest: str) -> Path:
        return self.directory / "objects" / (digest.replace(":", "-") + ".json")

    def _ensure_dirs(self) -> None:
        for d in (self.directory, self.directory / "refs", self.directory / "objects"):
            if not d.is_dir():
                d.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(d, 0o700)  # whatever the umask said

    def _prune(self) -> None:
        refs = sorted(_files(self.directory / "refs"), key=lambda e: e[1])  # oldest first
        objects = _files(self.directory / "objects")
        total = sum(e[2] for e in refs) + sum(e[2] for e in objects)
        while refs and (len(refs) > self.max_entries or total > self.max_bytes):
            path, _, size = refs.pop(0)
            with contextlib.suppress(OSError):
                path.unlink()
            total -= size
        named: set[str] = set()
        for path, _, _ in refs:
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                named.add(str(json.loads(path.read_bytes())["digest"]).replace(":", "-"))
        for path, _, _ in objects:
            if path.stem not in named:
                with contextlib.suppress(OSError):
                    path.unlink()


def _files(directory: Path) -> list[tuple[Path, float, int]]:
    out: list[tuple[Path, float, int]] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return out
    for entry in entries:
        if entry.name.endswith(".json"):
            with contextlib.suppress(OSError):
                st = entry.stat()
                out.append((Path(entry.path), st.st_mtime, st.st_size))
    return out


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` as a 0600 file, atomically (temporary file + rename)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")  # 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def default_cache(cache_dir: str | os.PathLike[str] | None, source: str) -> DiskCache:
    """The SDK's cache for ``source`` (a server endpoint or database URL): under ``cache_dir``,
    else ``AGENTDECK_CACHE_DIR``, else ``.agentdeck/cache`` in the working directory. Nothing
    is created until the first write."""
    from agentdeck.settings.env import ClientEnv, read

    base = cache_dir or read(ClientEnv).cache_dir or Path.cwd() / ".agentdeck" / "cache"
    return DiskCache(cache_dir_for(base, source))
