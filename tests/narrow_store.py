"""A real store seen through one narrow protocol: only the protocol's methods are reachable.

Services declare the narrow store protocol they use (mypy checks it statically); running a
service on :func:`narrow` checks at run time that the declared protocol is really enough.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, get_type_hints

from agentdeck.store.protocol import Store


def protocol_methods(proto: type) -> set[str]:
    """The public methods a Protocol class declares, its bases' included."""
    return {
        name
        for cls in proto.__mro__
        if cls.__module__.startswith("agentdeck.")
        for name, value in vars(cls).items()
        if callable(value) and not name.startswith("_")
    }


def narrow(store: Any, proto: type) -> Any:
    """``store``'s methods that ``proto`` declares, and nothing else (AttributeError on others)."""
    methods = protocol_methods(proto)
    assert methods, f"{proto.__name__} declares no methods"
    return SimpleNamespace(**{name: getattr(store, name) for name in methods})


def store_annotation(func: Any, param: str = "store") -> type:
    """The resolved annotation of ``func``'s store parameter."""
    hint = get_type_hints(func)[param]
    assert isinstance(hint, type)
    return hint


def is_narrower_than_store(proto: type) -> bool:
    return proto is not Store and protocol_methods(proto) < protocol_methods(Store)
