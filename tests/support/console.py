"""Signing in to the supervisors' console as a browser does: the login form and its CSRF field."""
from __future__ import annotations

import re

from tests.factories import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client, path="/console/login") -> str:
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def log_in(client, username: str, password: str = PASSWORD):
    return client.post("/console/login", data={"username": username, "password": password,
                                               "csrf_token": csrf_of(client)})


def post(client, path: str, data: dict, page: str):
    """Send a console form as the browser would after loading `page`: with that page's CSRF token."""
    return client.post(path, data={**data, "csrf_token": csrf_of(client, page)})


def text(response) -> str:
    return response.get_data(as_text=True)
