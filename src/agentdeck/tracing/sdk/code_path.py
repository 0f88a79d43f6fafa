"""Where an agent's code lives: recorded on each run so that replay finds the entrypoint.

A run of an agent whose spec names ``entrypoint: package.module:function`` records, when that
module is imported in the recording process, the directory that has to be on ``sys.path`` to
import it again (``agentdeck.code.path``). ``agentdeck replay RUN_ID`` adds it to its search
path, so a run recorded from any directory replays without ``--path``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CODE_PATH_ATTR = "agentdeck.code.path"
_known: dict[str, str] = {}


def code_root(entrypoint: str | None) -> str | None:
    """The import root of ``entrypoint``'s module if it is imported here, else ``None``.

    A dictionary lookup once the module has been seen; never raises."""
    if not entrypoint:
        return None
    found = _known.get(entrypoint)
    if found is not None:
        return found
    try:
        module_name = entrypoint.partition(":")[0]
        file = getattr(sys.modules.get(module_name), "__file__", None)
        if not file:
            return None
        path = Path(file).resolve()
        up = module_name.count(".") + (1 if path.name == "__init__.py" else 0)
        root = path.parent
        for _ in range(up):
            root = root.parent
        _known[entrypoint] = str(root)
        return str(root)
    except Exception:  # a guest never raises into the agent because of telemetry
        return None


def recorded_code_paths(attributes: Mapping[str, Any] | None) -> list[Path]:
    """The code path a run recorded, if it still exists on this machine."""
    value = (attributes or {}).get(CODE_PATH_ATTR)
    if isinstance(value, str) and value and Path(value).is_dir():
        return [Path(value)]
    return []
