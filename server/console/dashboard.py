"""The console's dashboard and its CSV exports: the figures of server.console.figures for a period,
as tables and inline SVG charts (server.console.charts)."""
from __future__ import annotations

from datetime import date

from flask import Response, current_app, g, render_template, request, url_for

from server.console import charts, figures, queries
from server.console.auth import console_login_required
from server.console.pages import (BadDates, bp, community_for, date_range, error_page, language, pick, t, today,
                                  translated, zone_name)
from server.extensions import db
from server.tickets import sla
from server.tickets.sla import Sla

TABLE_NAMES = ("coverage_by_grid", "coverage_by_building", "coverage_heatmap", "overdue_households",
               "overdue_custody", "tickets_by_status", "ticket_times_by_category", "ticket_times_by_butler",
               "satisfaction_over_time", "backoffice_by_category", "team_scorecard", "products")


def _tables(community: str, start: date, end: date) -> dict:
    return figures.dashboard(db.session, community_id=community, start=start, end=end, today=today(),
                             sla=Sla.from_config(current_app.config), tz=zone_name())


def _sections(tables: dict, start: date, end: date, community: str | None) -> list[dict]:
    lang = language()
    sections = []
    for name, table in tables.items():
        table = translated(table)
        rows = [[charts.format_value(value, column.kind) for column, value in zip(table.columns, row)]
                for row in table.rows]
        query = {"start": start.isoformat(), "end": end.isoformat()}
        if community and g.user.role == "admin":
            query["community"] = community
        sections.append({"name": name, "title": pick(table), "columns": table.columns, "rows": rows,
                         "numeric": [column.kind not in ("text", "date") for column in table.columns],
                         "chart": charts.chart_for(table, lang),
                         "csv": url_for("console.export", name=name, **query)})
    return sections


@bp.get("/")
@console_login_required
def dashboard():
    """The community's figures for ?start=&end= (the last 30 days by default)."""
    community, _ = community_for(g.user)
    context = {"community": community, "sections": [], "message": None,
               "start": request.args.get("start", ""), "end": request.args.get("end", "")}
    try:
        start, end = date_range(request.args)
    except BadDates as bad:
        context["message"] = t(bad.key, **bad.params)
        return render_template("console/dashboard.html", **context), 400
    context.update(start=start.isoformat(), end=end.isoformat())
    if community is None:
        context["message"] = t("no_community")
        return render_template("console/dashboard.html", **context)
    context["sections"] = _sections(_tables(community, start, end), start, end, community)
    # The escalated open tickets, each a link to its page (server/console/ticket.py).
    context["escalated"] = [row for row in queries.open_tickets(db.session, community, sla.OPEN)
                            if row[0].escalated][:10]
    return render_template("console/dashboard.html", **context)


@bp.get("/export/<name>.csv")
@console_login_required
def export(name: str):
    """One of the dashboard's tables as CSV."""
    if name not in TABLE_NAMES:
        return error_page(404, "not_found")
    community, _ = community_for(g.user)
    try:
        start, end = date_range(request.args)
    except BadDates as bad:
        return Response(t(bad.key, **bad.params), status=400, mimetype="text/plain")
    if community is None:
        return error_page(404, "not_found")
    tables = _tables(community, start, end)
    if name not in tables:
        return error_page(404, "not_found")
    filename = f"{name}_{start.isoformat()}_{end.isoformat()}.csv"
    return Response(figures.to_csv(translated(tables[name]), language()), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
