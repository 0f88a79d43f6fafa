"""Canonical JSON (RFC 8785) and the one digest function of agentdeck."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

DIGEST_PREFIX = "sha256:"


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 (JCS) canonical serialization of a JSON value."""
    return rfc8785.dumps(value)


def digest(value: Any) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``value``. Every artifact digest is this."""
    return DIGEST_PREFIX + hashlib.sha256(canonical_json(value)).hexdigest()


def text_digest(text: str) -> str:
    """``sha256:<hex>`` of UTF-8 text (prompts are hashed as text)."""
    return DIGEST_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()
