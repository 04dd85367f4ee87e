"""The console's attendance: the butlers' daily check-ins, one month at a time.

/console/attendance?month=YYYY-MM shows one row per butler of the community and one column per day of
the month on the community's calendar (its time zone): the first 签到 and the last 签退 of the day,
迟到 when the first check-in came after the start of work, 缺勤 for a past day without any check-in;
totals per butler. /console/attendance.csv?month=YYYY-MM is the same table as CSV. The figures come
from server.attendance.service (grouped in SQL by butler and local day).
"""
from __future__ import annotations

from flask import Response, g, render_template, url_for

from server import months
from server.attendance import service
from server.console.auth import console_login_required
from server.console.figures import Column, Table, to_csv
from server.console.pages import bp, community_for, community_query, error_page, language, month_arg, t
from server.extensions import db

def _cell(day: service.Day) -> str:
    """A day as one line of text (the CSV's cell)."""
    if day.state == service.ABSENT:
        return t("att_absent")
    parts = []
    if day.first_in:
        parts.append(f"{t('att_in')} {day.first_in}")
    if day.last_out:
        parts.append(f"{t('att_out')} {day.last_out}")
    if day.state == service.LATE:
        parts.append(t("att_late"))
    return " ".join(parts)


def _table(month: service.Month) -> Table:
    columns = (Column("butler", "管家", "Butler"),
               *[Column(d.isoformat(), d.isoformat(), d.isoformat()) for d in month.days],
               Column("present", "出勤天数", "Days present", "int"),
               Column("late", "迟到天数", "Days late", "int"),
               Column("absent", "缺勤天数", "Days absent", "int"))
    rows = tuple((b.name, *[_cell(d) for d in b.days], b.present, b.late, b.absent) for b in month.butlers)
    return Table("attendance", "考勤", "Attendance", columns, rows, chart="none")


@bp.get("/attendance")
@console_login_required
def attendance():
    community, _ = community_for(g.user)
    first, bad = month_arg("att_bad_month")
    context = {"month": None, "bad": bad, "month_text": months.month_text(first),
               "prev_month": months.month_text(months.add_months(first, -1)),
               "next_month": months.month_text(months.add_months(first, 1)), "weekdays": t("att_weekdays"),
               "csv_url": url_for("console.attendance_csv", month=months.month_text(first), **community_query())}
    if community is None:
        context["bad"] = t("no_community")
        return render_template("console/attendance.html", **context)
    month = service.attendance(db.session, community_id=community, year=first.year, month=first.month)
    context.update(month=month, this_month=months.month_text(month.today.replace(day=1)),
                   rules=t("att_rules", zone=month.timezone, starts=month.work_starts.strftime("%H:%M")))
    return render_template("console/attendance.html", **context), (400 if bad else 200)


@bp.get("/attendance.csv")
@console_login_required
def attendance_csv():
    community, _ = community_for(g.user)
    first, bad = month_arg("att_bad_month")
    if bad:
        return Response(bad, status=400, mimetype="text/plain")
    if community is None:
        return error_page(404, "not_found")
    month = service.attendance(db.session, community_id=community, year=first.year, month=first.month)
    filename = f"attendance_{months.month_text(first)}.csv"
    return Response(to_csv(_table(month), language()), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
