"""Signing in to the supervisors' console as a browser does: the login form and its CSRF field."""
from __future__ import annotations

import re

from tests.factories import PASSWORD, make_community, make_grid, make_household, make_user

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


def two_grids_and_a_neighbour() -> dict:
    """翠湖花园 with two butlers' grids (one household each) and its supervisor, and 别的小区 beside it with
    a butler and a household: what a console page must show, and what it must never show."""
    community = make_community(name="翠湖花园")
    b1 = make_user("butler", name="李管家", community_id=community.id)
    b2 = make_user("butler", name="张管家", community_id=community.id)
    supervisor = make_user("supervisor", name="王主管", community_id=community.id)
    g1, g2 = make_grid(community, b1, name="一号网格"), make_grid(community, b2, name="二号网格")
    h1 = make_household(community, g1, building="1栋", unit="1单元", room="301")
    h2 = make_household(community, g2, building="2栋", unit="1单元", room="1203")
    other = make_community(name="别的小区")
    ob = make_user("butler", name="外管家", community_id=other.id)
    og = make_grid(other, ob, name="外网格")
    oh = make_household(other, og, building="9栋", room="901")
    return {"community": community, "b1": b1, "b2": b2, "supervisor": supervisor, "g1": g1, "g2": g2, "h1": h1,
            "h2": h2, "other": other, "ob": ob, "og": og, "oh": oh}
