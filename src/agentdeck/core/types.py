"""Type aliases shared across agentdeck, defined once (habit: types in one module).

``JSON`` is a value as ``json``/``orjson`` produce and accept it: ``None``, ``bool``, ``int``,
``float``, ``str``, lists of JSON and dicts of ``str`` to JSON. Python's type system cannot
check the recursion usefully at our boundaries (pydantic models check it at the edges), so it is
spelled ``Any`` here, once, with this meaning.
"""

from __future__ import annotations

from typing import Any, TypeAlias

__all__ = ["JSON"]

JSON: TypeAlias = Any
