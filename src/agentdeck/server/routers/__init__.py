"""One module per resource; each exposes ``router: APIRouter`` and is mounted by ``create_app``.

Modules are discovered (see :func:`agentdeck.server.app.discover`), so a capability adds its API
by adding one module here; a test checks that every route refuses a missing or wrong key.
"""
