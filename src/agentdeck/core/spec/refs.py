"""References to registered artifacts: ``name``, ``name@N``, ``name@sha256:<hex>``, ``name@ENV``.

Parsing is pure; resolution (through the deployment history for ``name@ENV``) lives in the
registry service, and every caller (SDK, CLI, API, UI) goes through that one resolver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agentdeck.core.errors import UnresolvedReferenceError

_NAME = r"[a-z0-9][a-z0-9_.-]{0,99}"
_REF = re.compile(
    rf"^(?P<name>{_NAME})(?:@(?:(?P<version>[0-9]+)|(?P<digest>sha256:[0-9a-f]{{4,64}})|(?P<env>[a-z][a-z0-9_-]*)))?$"
)


@dataclass(frozen=True)
class Ref:
    """A parsed reference. Exactly one of version/digest/env is set, or none (= latest)."""

    name: str
    version: int | None = None
    digest: str | None = None
    env: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}@{self.version}"
        if self.digest is not None:
            return f"{self.name}@{self.digest}"
        if self.env is not None:
            return f"{self.name}@{self.env}"
        return self.name


#: The largest version number (a 32-bit column on every backend).
MAX_VERSION = 2**31 - 1


def parse_ref(text: str) -> Ref:
    """Parse a reference; raise :class:`UnresolvedReferenceError` saying what is wrong."""
    m = _REF.match(text.strip())
    if not m:
        raise UnresolvedReferenceError(
            text, "not a reference; expected name, name@N, name@sha256:<hex> or name@ENV"
        )
    version = m.group("version")
    if version is not None and int(version) < 1:
        raise UnresolvedReferenceError(text, "versions start at 1")
    if version is not None and int(version) > MAX_VERSION:
        raise UnresolvedReferenceError(text, f"versions end at {MAX_VERSION}")
    return Ref(
        name=m.group("name"),
        version=int(version) if version is not None else None,
        digest=m.group("digest"),
        env=m.group("env"),
    )
