"""Unknown keys refused with the nearest valid spelling: one helper for every config surface.

Gate settings, alert rules, agent specs and policy files are read by different modules; each
names the file or request part, and asks here for the words of the message::

    evals.min_pass_rate: unknown gate 'evals'; did you mean 'eval'? (known: eval, replay, ...)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The valid spelling closest to ``word`` (difflib ratio >= 0.6), if any."""
    found = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown(kind: str, word: str, choices: Iterable[str]) -> str:
    """``unknown KIND 'word'; did you mean 'x'? (known: a, b, c)`` on one line."""
    valid = sorted(set(choices))
    guess = nearest(word, valid)
    hint = f"; did you mean {guess!r}?" if guess else ""
    known = ", ".join(valid) if valid else "none"
    return f"unknown {kind} {word!r}{hint} (known: {known})"
