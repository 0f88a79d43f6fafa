"""The session and user of a trace, read from any of its spans.

Producers put the conversation's id and the end user's id on whichever span they know them:
the OpenTelemetry general names ``session.id`` / ``user.id`` (also OpenInference's), the GenAI
``gen_ai.conversation.id``, the older ``enduser.id``; agentdeck's own run stamp carries
``agentdeck.run.session_id`` / ``agentdeck.run.user_id``. The stamp wins; otherwise the
earliest span (by start time, then span id) naming one, so the answer does not depend on the
order of the spans in the request; a span's own attributes before its resource's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from agentdeck.tracing.otlp import names as n
from agentdeck.tracing.otlp.values import JSON
from agentdeck.tracing.otlp.wire import RawSpan

_MAX = 200  # the width of runs.session_id / runs.user_id


def _text(value: JSON) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        return str(value)[:_MAX] or None
    return None


def _first(maps: Iterable[Mapping[str, JSON]], keys: tuple[str, ...]) -> str | None:
    for m in maps:
        for key in keys:
            found = _text(m.get(key))
            if found is not None:
                return found
    return None


def session_and_user(raws: Iterable[RawSpan]) -> tuple[str | None, str | None]:
    """(session id, user id) of the spans of one trace (module docstring)."""
    ordered = sorted(raws, key=lambda r: (r.start_ns, r.span_id))
    maps = [m for r in ordered for m in (r.attrs, r.resource)]
    session = _first(maps, (n.RUN_SESSION_ID,)) or _first(maps, n.SESSION_KEYS)
    user = _first(maps, (n.RUN_USER_ID,)) or _first(maps, n.USER_KEYS)
    return session, user
