"""The web UI: server-rendered Jinja2 pages (htmx and a little plain JS; vendored libraries).

Each module here exposes ``router`` (mounted by ``create_app``) and may set ``NAV = (label,
path, order)`` to appear in the navigation bar. Pages need a key like every route; a browser
signs in once on the login form, which stores the key in an HttpOnly session cookie.
"""
