"""The supervisors' console, under /console/: server-rendered pages on the blueprint `bp`.

pages.py holds the blueprint and what every page shares (words, the shown community and period,
answering a form); words.py the word tables; queries.py and figures.py the SQL. Each page module below
puts its routes on bp, so registering bp registers every page.
"""
from server.console.pages import bp
from server.console import (actions, attendance, audit, catalogue, conflicts, dashboard,  # noqa: E402,F401
                            login, operations, setup)
from server.console import custody, followups, household, notices, orders, people, photos, ticket  # noqa: E402,F401

__all__ = ["bp"]
