"""The supervisors' console, under /console/: server-rendered pages on the blueprint `bp`.

pages.py holds the blueprint and what every page shares (words, the shown community and period,
answering a form); words.py the word tables; queries.py and figures.py the SQL. Each page module below
puts its routes on bp, so registering bp registers every page.
"""
from server.console.pages import bp
from server.console import (actions, attendance, audit, catalogue, conflicts, dashboard,  # noqa: E402,F401
                            login, operations, setup)
from server.console import (custody, followups, household, incidents, notices, orders, people, photos,  # noqa: E402,F401
                            ticket, tickets, voice)

__all__ = ["bp"]
