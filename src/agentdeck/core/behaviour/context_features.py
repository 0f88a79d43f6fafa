"""Features of the context a run was given: what monitoring compares for *context drift*.

Context drift is a change in what the agent is asked, not in what it does: longer inputs,
more conversation turns, bigger tool responses, another language, other topics. These are
computed once per run (see :class:`agentdeck.core.behaviour.profile.RunView`) from the run's input,
its LLM context and its tool responses:

- ``input_chars``: characters of user text in the run's input (all strings inside it);
- ``turns``: user messages in the largest LLM context of the run (1 for a plain input);
- ``tool_response_bytes``: size of each tool response as compact JSON (UTF-8 bytes);
- ``script_chars``: characters of the input per writing system (:data:`SCRIPTS`), from the
  Unicode character names (the standard library's ``unicodedata``; a full script property
  would need a third-party table, and the name prefix identifies every script we bucket);
- ``dominant_script``: the script with most characters (``none`` for no letters), a cheap and
  dependable proxy for the input's language;
- ``bow``: a hashed bag of words of the input (lower-cased ``\\w+`` tokens, CRC-32 into a fixed
  number of buckets), so that topic shifts can be tested without keeping any vocabulary.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from agentdeck.core.types import JSON

#: Script buckets, in a fixed order. Han, kana and hangul are kept apart: they separate
#: Chinese, Japanese and Korean inputs.
SCRIPTS: tuple[str, ...] = (
    "latin",
    "cyrillic",
    "greek",
    "arabic",
    "hebrew",
    "devanagari",
    "thai",
    "han",
    "kana",
    "hangul",
    "other",
)
NO_SCRIPT = "none"
DEFAULT_BOW_BUCKETS = 64

_NAME_PREFIX: tuple[tuple[str, str], ...] = (
    ("LATIN", "latin"),
    ("CYRILLIC", "cyrillic"),
    ("GREEK", "greek"),
    ("ARABIC", "arabic"),
    ("HEBREW", "hebrew"),
    ("DEVANAGARI", "devanagari"),
    ("THAI", "thai"),
    ("CJK", "han"),
    ("HIRAGANA", "kana"),
    ("KATAKANA", "kana"),
    ("HANGUL", "hangul"),
)
_TOKEN = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=8192)
def script_of(ch: str) -> str | None:
    """The script bucket of one character, or ``None`` for non-letters (digits, punctuation)."""
    if ch.isascii():
        return "latin" if ch.isalpha() else None
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    for prefix, script in _NAME_PREFIX:
        if name.startswith(prefix):
            return script
    return "other"


def script_counts(text: str) -> dict[str, int]:
    """Letters of ``text`` per script bucket (only buckets that occur)."""
    out: dict[str, int] = {}
    for ch in text:
        s = script_of(ch)
        if s is not None:
            out[s] = out.get(s, 0) + 1
    return out


def dominant_script(counts: dict[str, int]) -> str:
    """The bucket with most letters; ties break by :data:`SCRIPTS` order; ``none`` if empty."""
    if not counts:
        return NO_SCRIPT
    return max(SCRIPTS, key=lambda s: (counts.get(s, 0), -SCRIPTS.index(s)))


def hashed_bow(text: str, buckets: int = DEFAULT_BOW_BUCKETS) -> tuple[int, ...]:
    """Token counts of ``text`` hashed into ``buckets`` buckets (CRC-32: stable across runs)."""
    out = [0] * buckets
    for tok in _TOKEN.findall(text.lower()):
        out[zlib.crc32(tok.encode("utf-8")) % buckets] += 1
    return tuple(out)


def iter_strings(value: JSON) -> Iterator[str]:
    """Every string inside a JSON value (dict values, list items), depth first."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from iter_strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from iter_strings(v)


def user_text(run_input: JSON) -> str:
    """The user text of a run's input: the input itself if a string, else its strings joined.

    For a message list, only ``content`` of ``user`` messages counts when roles are present.
    """
    if isinstance(run_input, str):
        return run_input
    if (
        isinstance(run_input, list)
        and run_input
        and all(isinstance(m, dict) and "role" in m for m in run_input)
    ):
        return "\n".join(
            s for m in run_input if m.get("role") == "user" for s in iter_strings(m.get("content"))
        )
    return "\n".join(iter_strings(run_input))


def count_user_turns(messages: JSON) -> int:
    """User messages in an LLM message list (0 if it is not a list of messages)."""
    if not isinstance(messages, list):
        return 0
    return sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "user")


def json_size(value: JSON) -> int:
    """Bytes of ``value`` as compact JSON (non-JSON values via ``str``)."""
    return len(orjson.dumps(value, default=str))


@dataclass(frozen=True, slots=True)
class ContextFeatures:
    """The context features of one run (see the module docstring)."""

    input_chars: int
    turns: int
    tool_response_bytes: tuple[int, ...]
    script_chars: tuple[tuple[str, int], ...]
    dominant_script: str
    bow: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_chars": self.input_chars,
            "turns": self.turns,
            "tool_response_bytes": list(self.tool_response_bytes),
            "script_chars": dict(self.script_chars),
            "dominant_script": self.dominant_script,
            "bow": list(self.bow),
        }


def extract_context(
    run_input: JSON,
    llm_contexts: list[JSON],
    tool_results: list[JSON],
    bow_buckets: int = DEFAULT_BOW_BUCKETS,
) -> ContextFeatures:
    """Context features from a run's input, its LLM message lists and its tool responses."""
    text = user_text(run_input)
    counts = script_counts(text)
    turns = max((count_user_turns(m) for m in llm_contexts), default=0)
    if turns == 0 and text:
        turns = 1
    return ContextFeatures(
        input_chars=len(text),
        turns=turns,
        tool_response_bytes=tuple(json_size(r) for r in tool_results),
        script_chars=tuple(sorted(counts.items())),
        dominant_script=dominant_script(counts),
        bow=hashed_bow(text, bow_buckets),
    )
