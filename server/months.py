"""Calendar months as their first day: the console's plans, inspections and attendance go month by month."""
from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from server.errors import FieldError, ValidationFailed

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_month(text: str | None) -> date:
    """"YYYY-MM" as the month's first day; ValidationFailed (month, invalid_month) otherwise."""
    found = _MONTH.fullmatch((text or "").strip())
    # Years 1900–9998 only: the month before and after must exist too (the pages link to them).
    if found and 1 <= int(found[2]) <= 12 and 1900 <= int(found[1]) <= 9998:
        return date(int(found[1]), int(found[2]), 1)
    raise ValidationFailed([FieldError("month", "invalid_month")])


def parse_date(text: str | None, field: str) -> date | None:
    """"YYYY-MM-DD" as a date; None when empty; ValidationFailed (field, invalid_type) otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ValidationFailed([FieldError(field, "invalid_type")])


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def add_months(month: date, months: int) -> date:
    """The first day of the month `months` after (or before) `month`'s."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def month_days(first: date) -> list[date]:
    """Every day of the month that `first` begins."""
    return [first + timedelta(days=i) for i in range(calendar.monthrange(first.year, first.month)[1])]
