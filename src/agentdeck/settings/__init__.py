"""Every ``AGENTDECK_*`` environment variable, defined once: typed, defaulted, documented.

The catalogue lives in :mod:`agentdeck.settings.env` (on ``pydantic-settings``); readers import
it inside the function that needs a value, so the environment is read at the call (tests that
set a variable keep working) and ``import agentdeck`` or ``agentdeck --help`` never pays for
``pydantic-settings``. Each reader loads the section it needs (:class:`~.env.StoreEnv`,
:class:`~.env.ClientEnv`, ...) with :func:`~.env.read`, so a bad server-only variable cannot
break an agent's ``agentdeck.init``. An invalid value raises
:class:`~agentdeck.core.errors.InputError` with one line naming the variable.

``docs/configuration.md`` is generated from the catalogue by ``scripts/gen_settings_doc.py``
(:mod:`agentdeck.settings.doc`); a test fails when it is stale or when a module of ``src``
names an ``AGENTDECK_*`` variable that is not in the catalogue.
"""

import os as _os


def is_set(name: str) -> bool:
    """Whether the environment sets ``name`` (any case, non-empty), without loading the
    catalogue: readers on a start-up path load :mod:`~.env` only when there is a value to read."""
    upper = name.upper()
    return any(k.upper() == upper and v for k, v in _os.environ.items())
