"""Loading a community's file of households (and the people in them) from a spreadsheet, and giving it
back in the same shape: the console's import and export (server/console/setup.py).

A file is a table with a header row: one row per household, or one per person when a household has
several (the household's columns then repeat, or are left blank after its first row). Its columns are
named in Chinese or English (COLUMNS); 楼栋 and 房号 are required, the others optional. A blank cell
leaves a household's or person's value as it is (a new one gets the default).

The steps are plain functions, each testable alone:
  read_table   the file's bytes as rows of text: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030, UTF-16 as
               Chinese Excel saves them) or .xlsx; refused when too big, too long or not a table;
  parse        the header row read, each data row keyed by column, with its row number as Excel shows it;
  check_rows   each row's values checked and grouped by address (building, unit, room);
  plan         the groups compared with the community's records: what would be created or changed,
               and the errors only the database can tell (an unknown grid, a deleted address);
  apply        the plan written, all of it or nothing, in the caller's transaction: new records in
               bulk (server/bulk.py), each with its bookkeeping and audit event; changes through the
               resource service, so scope, audience and audit work as for any write.
Re-importing the same file changes nothing: households are found by their address, people by their
name within the household.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Iterable

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from server import bulk
from server.audit import service as audit
from server.auth import scopes
from server.auth.models import User
from server.community.models import HOUSEHOLD_STATUSES, RELATIONS, Grid, Household, Person
from server.community.schemas import HouseholdSchema, PersonSchema
from server.community.service import HOUSEHOLD_RULES, PERSON_RULES
from server.errors import FieldError, Forbidden, NotFound, field_errors_from_marshmallow
from server.records import new_id
from server.resources import service
from server.syncing import bookkeeping
from server.syncing.changes import apply_scope_change, audience, drop_block, reserve_block
from sync.merge import stamp

MAX_BYTES = 2 * 1024 * 1024  # a 5,000-household file with its people is well under 1 MB
MAX_ROWS = 5000  # data rows
MAX_COLUMNS = 40
MAX_XLSX_UNPACKED = 40 * 1024 * 1024  # a zip bomb is refused before it is opened


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()


# The file's columns, in the order an export writes them.
COLUMNS: tuple[Column, ...] = (
    Column("building", "楼栋", "Building", ("楼号", "栋", "楼")),
    Column("unit", "单元", "Entrance", ("unit", "单元号")),
    Column("room", "房号", "Room", ("房间", "房间号", "室", "门牌号")),
    Column("status", "状态", "Status", ("居住状态", "住户状态")),
    Column("area_m2", "面积", "Area", ("面积(㎡)", "面积（㎡）", "建筑面积", "area (m2)", "area_m2")),
    Column("grid", "网格", "Grid", ()),
    Column("visit_cycle_days", "走访周期(天)", "Visit cycle (days)", ("走访周期", "走访周期（天）", "visit cycle")),
    Column("tags", "标签", "Tags", ()),
    Column("notes", "备注", "Notes", ()),
    Column("person_name", "姓名", "Name", ("住户姓名", "联系人", "name")),
    Column("relation", "关系", "Relation", ("与户关系", "身份")),
    Column("phone", "手机号码", "Phone", ("手机", "手机号", "电话", "联系电话", "phone number")),
    Column("consent", "同意保存信息", "Consent", ("同意", "信息保存同意", "consent given")),
)
BY_KEY = {column.key: column for column in COLUMNS}
REQUIRED = ("building", "room")
HOUSEHOLD_COLUMNS = ("status", "area_m2", "grid", "visit_cycle_days", "tags", "notes")
PERSON_COLUMNS = ("relation", "phone", "consent")

STATUS_NAMES: dict[str, tuple[str, str]] = {
    "self_occupied": ("自住", "Owner-occupied"), "rented": ("出租", "Rented"),
    "vacant": ("空置", "Vacant"), "custody": ("托管", "In custody"),
}
RELATION_NAMES: dict[str, tuple[str, str]] = {
    "owner": ("业主", "Owner"), "family": ("家属", "Family"), "tenant": ("租户", "Tenant"), "other": ("其他", "Other"),
}
_YES = {"是", "同意", "已同意", "y", "yes", "true", "1", "√", "✓"}
_NO = {"否", "不同意", "未同意", "n", "no", "false", "0", "×"}
_EXTRA_STATUS = {"自用": "self_occupied", "自住房": "self_occupied", "出租中": "rented", "空房": "vacant",
                 "闲置": "vacant", "委托": "custody"}
_EXTRA_RELATION = {"户主": "owner", "房主": "owner", "家人": "family", "家庭成员": "family", "租客": "tenant",
                   "租户(租客)": "tenant"}
# A building, unit or room: letters, digits, CJK and a few marks; starting with a letter, digit or CJK
# (never =, +, - or @: a formula to a spreadsheet).
_ADDRESS_PART = re.compile(r"^[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff][0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff#()\-_.· ]*$")
_TAG_SPLIT = re.compile(r"[,，;；、|/]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class RowError:
    """One thing wrong with the file: its row as Excel numbers it (the header is row 1; 0: the file as
    a whole), the column's key (None: the row or the file), a code and the code's parameters."""

    row: int
    column: str | None
    code: str
    params: dict = field(default_factory=dict)


class FileRefused(Exception):
    """The file cannot be read as a table at all (its type, size, encoding or shape)."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.error = RowError(0, None, code, params)


@dataclass
class Parsed:
    """The file's data rows: (row number, {column key: text}), blank rows left out."""

    rows: list[tuple[int, dict[str, str]]]
    columns: list[str]


@dataclass
class Group:
    """The rows of one address: the household's values as given (wire names; None where left blank)
    and the people named on its rows."""

    key: tuple[str, str, str]
    row: int  # its first row
    values: dict[str, Any]
    grid: str | None
    rows: dict[str, int] = field(default_factory=dict)  # column key -> the row that gave it
    people: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@dataclass
class Plan:
    """What an import would do; `errors` non-empty: nothing may be written."""

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    new_households: list[dict] = field(default_factory=list)  # wire values, community and grid ids in
    changed_households: list[tuple[Household, dict]] = field(default_factory=list)
    unchanged_households: int = 0
    new_people: list[tuple[Any, dict]] = field(default_factory=list)  # (household id or new dict, values)
    changed_people: list[tuple[Person, dict]] = field(default_factory=list)
    unchanged_people: int = 0

    @property
    def changes(self) -> int:
        return (len(self.new_households) + len(self.changed_households) + len(self.new_people)
                + len(self.changed_people))


# ---- reading the file ---------------------------------------------------------------------------

def read_table(filename: str, data: bytes) -> list[list[str]]:
    """The file's rows as text cells (at most MAX_ROWS data rows after the header); FileRefused."""
    name = (filename or "").lower()
    if len(data) > MAX_BYTES:
        raise FileRefused("file_too_big", max_mb=MAX_BYTES // (1024 * 1024))
    if not data.strip():
        raise FileRefused("file_empty")
    if data[:4] == b"\xd0\xcf\x11\xe0":  # an old .xls (or another OLE file)
        raise FileRefused("old_excel")
    if data[:4] == b"PK\x03\x04":
        if not name.endswith((".xlsx", ".xlsm")):
            raise FileRefused("wrong_type")
        return _xlsx_rows(data)
    if not name.endswith((".csv", ".txt")):
        raise FileRefused("wrong_type")
    return _csv_rows(data)


def _csv_rows(data: bytes) -> list[list[str]]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    rows = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(row)
            if len(rows) > MAX_ROWS + 1:
                raise FileRefused("too_many_rows", max=MAX_ROWS)
    except csv.Error:
        raise FileRefused("wrong_type") from None
    return rows


def _decode(data: bytes) -> str:
    """The CSV's text: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (GBK's superset:
    what Chinese Excel writes for "CSV")."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break  # a binary file that happens to decode
        return text
    raise FileRefused("wrong_type")


def _xlsx_rows(data: bytes) -> list[list[str]]:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "xl/workbook.xml" not in names:
                raise FileRefused("wrong_type")
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED:
                raise FileRefused("file_too_big", max_mb=MAX_BYTES // (1024 * 1024))
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except FileRefused:
        raise
    except Exception:  # a damaged or foreign zip: openpyxl raises many kinds
        raise FileRefused("wrong_type") from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1):
            cells = [_cell_text(value) for value in values]
            while cells and not cells[-1]:
                cells.pop()  # a sheet read without its dimensions pads every row to max_col
            rows.append(cells)
            if len(rows) > MAX_ROWS + 1:
                raise FileRefused("too_many_rows", max=MAX_ROWS)
        return rows
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _header_key(text: str) -> str | None:
    wanted = unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "")
    for column in COLUMNS:
        for name in (column.zh, column.en, column.key, *column.aliases):
            if unicodedata.normalize("NFKC", name).lower().replace(" ", "") == wanted:
                return column.key
    return None


def parse(filename: str, data: bytes) -> Parsed:
    """The file's rows keyed by column; FileRefused for a file, or a header, that cannot be used."""
    table = read_table(filename, data)
    header_index = next((i for i, row in enumerate(table) if any(cell.strip() for cell in row)), None)
    if header_index is None:
        raise FileRefused("file_empty")
    header = table[header_index]
    if len(header) > MAX_COLUMNS:
        raise FileRefused("too_many_columns", max=MAX_COLUMNS)
    columns: list[str | None] = []
    unknown, twice = [], []
    for text in header:
        if not text.strip():
            columns.append(None)
            continue
        key = _header_key(text)
        if key is None:
            unknown.append(text.strip())
        elif key in columns:
            twice.append(text.strip())
        columns.append(key)
    if unknown:
        raise FileRefused("unknown_columns", names="、".join(unknown[:10]))
    if twice:
        raise FileRefused("duplicate_columns", names="、".join(twice[:10]))
    missing = [key for key in REQUIRED if key not in columns]
    if missing:
        raise FileRefused("missing_columns", keys=missing)
    rows = []
    for offset, cells in enumerate(table[header_index + 1:], start=header_index + 2):
        values = {}
        for key, cell in zip(columns, cells):
            if key is not None:
                values[key] = _unescape(cell.strip())
        if any(values.values()):
            values.update({key: "" for key in columns if key is not None and key not in values})
            rows.append((offset, values))
    if not rows:
        raise FileRefused("no_rows")
    return Parsed(rows=rows, columns=[key for key in columns if key is not None])


def _unescape(text: str) -> str:
    """A cell an export guarded against formula injection ('=...) as it was written."""
    if text.startswith("'") and text[1:2] and text[1] in _FORMULA_START:
        return text[1:]
    return text


# ---- checking the rows --------------------------------------------------------------------------

def _address_part(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def _number(text: str, suffixes: tuple[str, ...]) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    for suffix in suffixes:
        if text.lower().endswith(suffix):
            return text[: -len(suffix)].strip()
    return text


def _choice(text: str, names: dict[str, tuple[str, str]], extra: dict[str, str]) -> str | None:
    wanted = unicodedata.normalize("NFKC", text).strip().lower()
    for code, (zh, en) in names.items():
        if wanted in (code, zh, en.lower()):
            return code
    return extra.get(wanted)


def check_row(row: int, cells: dict[str, str]) -> tuple[tuple[str, str, str] | None, dict, str | None,
                                                         dict | None, list[RowError]]:
    """One row: its address key, the household's values given (wire names), the grid's name, the
    person's values (None without a name) and what is wrong with it."""
    errors: list[RowError] = []
    parts = {}
    for key in ("building", "unit", "room"):
        text = _address_part(cells.get(key, ""))
        if not text:
            if key != "unit":
                errors.append(RowError(row, key, "required"))
        elif len(text) > 20:
            errors.append(RowError(row, key, "too_long", {"max": 20}))
        elif not _ADDRESS_PART.match(text):
            errors.append(RowError(row, key, "bad_name"))
        parts[key] = text
    values: dict[str, Any] = {}
    text = cells.get("status", "")
    if text:
        code = _choice(text, STATUS_NAMES, _EXTRA_STATUS)
        if code is None:
            errors.append(RowError(row, "status", "bad_choice", {"choices": "status"}))
        values["status"] = code
    text = _number(cells.get("area_m2", ""), ("㎡", "m2", "m²", "平方米", "平米", "平"))
    if text:
        try:
            area = float(text)
            if not 0 < area <= 100000 or area != area:
                raise ValueError
            values["area_m2"] = area
        except ValueError:
            errors.append(RowError(row, "area_m2", "bad_number", {"min": 0, "max": 100000}))
    text = _number(cells.get("visit_cycle_days", ""), ("天", "days", "day", "d"))
    if text:
        try:
            days = int(float(text)) if float(text).is_integer() else None
            if days is None or not 1 <= days <= 730:
                raise ValueError
            values["visit_cycle_days"] = days
        except ValueError:
            errors.append(RowError(row, "visit_cycle_days", "bad_number", {"min": 1, "max": 730}))
    text = cells.get("tags", "")
    if text:
        values["tags"] = [tag.strip() for tag in _TAG_SPLIT.split(text) if tag.strip()]
    if cells.get("notes"):
        values["notes"] = cells["notes"]
    errors += _schema_errors(row, HouseholdSchema, {k: v for k, v in values.items() if v is not None})
    grid = cells.get("grid", "").strip() or None

    person = None
    name = cells.get("person_name", "").strip()
    if name:
        person = {"name": name}
        text = cells.get("relation", "")
        if text:
            code = _choice(text, RELATION_NAMES, _EXTRA_RELATION)
            if code is None:
                errors.append(RowError(row, "relation", "bad_choice", {"choices": "relation"}))
            person["relation"] = code
        text = cells.get("consent", "")
        if text:
            wanted = unicodedata.normalize("NFKC", text).strip().lower()
            if wanted not in _YES | _NO:
                errors.append(RowError(row, "consent", "bad_yes_no"))
            person["consent"] = wanted in _YES
        phone = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", cells.get("phone", "")))
        if phone:
            person["phone"] = phone
            if person.get("consent") is not True:
                errors.append(RowError(row, "phone", "consent_required"))
        errors += _schema_errors(row, PersonSchema, {k: v for k, v in person.items() if v is not None},
                                 {"name": "person_name"})
    elif any(cells.get(key) for key in PERSON_COLUMNS):
        errors.append(RowError(row, "person_name", "required"))
    key = (parts["building"], parts["unit"], parts["room"]) if not any(
        e.column in ("building", "unit", "room") for e in errors) else None
    return key, values, grid, person, errors


def _schema_errors(row: int, schema: type, data: dict, columns: dict | None = None) -> list[RowError]:
    try:
        _schema_instance(schema).load(data, partial=True)
    except ValidationError as invalid:
        return [RowError(row, (columns or {}).get(error.field.split(".")[0], error.field.split(".")[0]), error.code,
                         dict(error.params))
                for error in field_errors_from_marshmallow(invalid.messages)]
    return []


@lru_cache(maxsize=None)
def _schema_instance(schema: type):
    """A schema built once: marshmallow schemas keep no state between loads, and building one for each
    of 2,000 rows cost more than checking them."""
    return schema()


def check_rows(rows: Iterable[tuple[int, dict[str, str]]]) -> tuple[list[Group], list[RowError]]:
    """The rows checked and grouped by address, in the file's order; a row that repeats another
    (the same address with no person, or the same person twice) or contradicts its address's
    earlier row is an error."""
    groups: dict[tuple[str, str, str], Group] = {}
    errors: list[RowError] = []
    for row, cells in rows:
        key, values, grid, person, row_errors = check_row(row, cells)
        errors += row_errors
        if key is None:
            continue
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(key=key, row=row, values=values, grid=grid,
                                        rows={name: row for name in [*values, *(["grid"] if grid else [])]})
        else:
            if person is None or not group.people:
                errors.append(RowError(row, None, "duplicate_row", {"first": group.row}))
                continue
            for name, value in [*values.items(), ("grid", grid)]:
                if value is None:
                    continue
                given = group.grid if name == "grid" else group.values.get(name)
                if given is None:
                    if name == "grid":
                        group.grid = value
                    else:
                        group.values[name] = value
                    group.rows[name] = row
                elif given != value:
                    errors.append(RowError(row, name, "conflict", {"first": group.rows[name]}))
        if person is not None:
            twice = next((first for first, other in group.people if other["name"] == person["name"]), None)
            if twice is not None:
                errors.append(RowError(row, "person_name", "duplicate_person", {"first": twice}))
                continue
            group.people.append((row, person))
    return list(groups.values()), sorted(errors, key=lambda e: (e.row, e.column or ""))


# ---- comparing with the community ---------------------------------------------------------------

def plan(session: Session, community_id: str, rows: list[tuple[int, dict[str, str]]]) -> Plan:
    """What importing the rows into the community would do, and every error (none: it may be applied)."""
    result = Plan(rows=len(rows))
    groups, result.errors = check_rows(rows)
    grids: dict[str, list[str]] = {}
    for grid_id, name in session.execute(sa.select(Grid.id, Grid.name).where(
            Grid.community_id == community_id, Grid.deleted.is_(False))):
        grids.setdefault(name, []).append(grid_id)
    existing = {(h.building, h.unit, h.room): h for h in session.scalars(
        sa.select(Household).where(Household.community_id == community_id))}
    people: dict[tuple[str, str], Person] = {}
    for person in session.scalars(sa.select(Person).join(Household, Household.id == Person.household_id).where(
            Household.community_id == community_id, Household.deleted.is_(False), Person.deleted.is_(False))
            .order_by(Person.created_at, Person.id)):
        people.setdefault((person.household_id, person.name), person)
    for group in groups:
        values = {k: v for k, v in group.values.items() if v is not None}
        if group.grid is not None:
            found = grids.get(group.grid, [])
            if len(found) != 1:
                result.errors.append(RowError(group.rows.get("grid", group.row), "grid",
                                              "unknown_grid" if not found else "ambiguous_grid",
                                              {"name": group.grid}))
                continue
            values["grid_id"] = found[0]
        household = existing.get(group.key)
        if household is not None and household.deleted:
            result.errors.append(RowError(group.row, "room", "deleted_household"))
            continue
        if household is None:
            new = {"community_id": community_id, "building": group.key[0], "unit": group.key[1],
                   "room": group.key[2], **values}
            result.new_households.append(new)
            result.new_people += [(new, person) for _, person in group.people]
            continue
        changes = {name: value for name, value in values.items() if getattr(household, name) != value}
        if changes:
            result.changed_households.append((household, changes))
        else:
            result.unchanged_households += 1
        for _, person in group.people:
            current = people.get((household.id, person["name"]))
            if current is None:
                result.new_people.append((household.id, person))
                continue
            changes = {name: value for name, value in person.items()
                       if name != "name" and value is not None and getattr(current, name) != value}
            if changes.get("consent") is False and not current.consent:
                changes.pop("consent")
            if changes:
                result.changed_people.append((current, changes))
            else:
                result.unchanged_people += 1
    result.errors.sort(key=lambda e: (e.row, e.column or ""))
    return result


# ---- writing it ---------------------------------------------------------------------------------

def manages(user: User, community_id: str | None) -> bool:
    """Whether the user may set up this community: an admin any, a supervisor their own."""
    return community_id is not None and (
        user.role == "admin" or (user.role == "supervisor" and user.community_id == community_id))


def apply(session: Session, *, user: User, community_id: str, planned: Plan,
          via: audit.Via | None = None) -> None:
    """Write the plan in the caller's transaction (the caller commits, or rolls back on an error).
    Refused (Forbidden) unless the user manages the community and may write households and people;
    a plan with errors is never written (ValueError)."""
    if planned.errors:
        raise ValueError("a plan with errors is not applied")
    rights_h, rights_p = scopes.rights(user, "household"), scopes.rights(user, "person")
    if not manages(user, community_id) or not (rights_h.create and rights_h.update):
        raise Forbidden()
    if planned.new_people or planned.changed_people:
        if not (rights_p.create and rights_p.update):
            raise Forbidden()
    writer = via.actor_id if via is not None and via.actor_id else user.id
    _update_all(session, user, planned, via, writer)

    household_rows, events = [], []
    for planned_values in planned.new_households:
        planned_values.setdefault("id", new_id())  # the new people's household names it
        values = dict(planned_values)
        HOUSEHOLD_RULES.prepare_create(session, user, values)
        household_rows.append(values)
    person_rows = []
    for household, values in planned.new_people:
        values = {"household_id": household if isinstance(household, str) else household["id"], **values}
        PERSON_RULES.prepare_create(session, user, values)
        values["id"] = new_id()
        person_rows.append(values)
    if not household_rows and not person_rows:
        return
    communities = {row["id"]: community_id for row in household_rows}
    reserve_block(session, len(household_rows) + len(person_rows))
    try:
        for rtype, model, rows in (("household", Household, household_rows), ("person", Person, person_rows)):
            made = []
            for values in rows:
                row = bookkeeping.created(session, rtype, values)
                row["field_meta"] = stamp({}, [k for k in values if k != "id"], version=1,
                                          client_id=service.SERVER_CLIENT, user_id=writer)
                made.append(row)
                household_id = row["id"] if rtype == "household" else row["household_id"]
                events.append({"at": row["created_at"], "user_id": writer,
                               "device_id": via.device_id if via else None,
                               "community_id": communities.get(household_id, community_id),
                               "household_id": household_id, "action": "create", "record_type": rtype,
                               "record_id": row["id"], "fields": sorted(k for k in values if k != "id"),
                               "channel": (via or audit.CONSOLE).channel})
            bulk.insert_rows(session, model, made)
    finally:
        drop_block(session)
    audit.insert(session, events)
    _check_in_scope(session, user, [row["id"] for row in household_rows])


def _update_all(session: Session, user: User, planned: Plan, via: audit.Via | None, writer: str) -> None:
    """The plan's changes, as the resource service makes each (its schema and write rights, the domain
    rules, the bookkeeping, field metadata, audit event, and the phones that gain or lose a household
    moved to another grid), but together: one lock per 500 records, one flush, one audience before and
    after. Written one by one through the service, 2,000 changed households took a minute and a half."""
    work = [("household", Household, household, changes) for household, changes in planned.changed_households]
    work += [("person", Person, person, changes) for person, changes in planned.changed_people]
    if not work:
        return
    # The community's grids, held for the length of the writes: each household moved checks its new grid
    # (the session's identity map keeps only weak references, so each check asked the database again).
    _grids = list(session.scalars(sa.select(Grid).where(Grid.community_id.in_(
        {record.community_id for rtype, _, record, _ in work if rtype == "household"}))))
    for model in (Household, Person):  # locked, and read again as they are now
        ids = [record.id for _, kind, record, _ in work if kind is model]
        for start in range(0, len(ids), 500):
            list(session.scalars(sa.select(model).where(model.id.in_(ids[start:start + 500]))
                                 .with_for_update().execution_options(populate_existing=True)))
    loaded, watched = [], []
    for rtype, _, record, changes in work:
        if record.deleted:
            raise NotFound()
        changes = service.load_fields(user, rtype, changes, creating=False)
        rules = HOUSEHOLD_RULES if rtype == "household" else PERSON_RULES
        rules.prepare_update(session, user, record, changes)
        if rules.audience_of:
            watched += rules.audience_of(session, record, changes)
        loaded.append((rtype, record, changes))
    before = audience(session, watched)
    reserve_block(session, len(loaded))
    try:
        for rtype, record, changes in loaded:
            for name, value in changes.items():
                setattr(record, name, value)
            bookkeeping.changed(session, rtype, record)
            record.field_meta = stamp(record.field_meta or {}, changes, version=record.version,
                                      client_id=service.SERVER_CLIENT, user_id=writer)
    finally:
        drop_block(session)
    session.flush()
    if watched:
        # Evictions and re-sent records take change numbers too: on SQLite one counter update for all
        # (numbers left over are gaps, which cursors do not mind), not one per household and record type.
        reserve_block(session, 20 * len(watched))
        try:
            apply_scope_change(session, before, audience(session, watched))
        finally:
            drop_block(session)
    audit.insert(session, [audit.change_event(session, user=user, action="update", rtype=rtype, record=record,
                                              fields=changes, via=via) for rtype, record, changes in loaded])
    _check_in_scope(session, user, [record.id for rtype, record, _ in loaded if rtype == "household"])


def _check_in_scope(session: Session, user: User, ids: list[str]) -> None:
    """Every household written lies in the user's scope (the same filter as every read)."""
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        seen = session.scalar(sa.select(sa.func.count()).select_from(Household).where(
            Household.id.in_(chunk), scopes.visible_filter(user, "household", Household)))
        if seen != len(chunk):
            raise Forbidden(errors=[FieldError("community_id", "out_of_scope")])


# ---- export -------------------------------------------------------------------------------------

def export_rows(session: Session, community_id: str, lang: str, reads: list | None = None) -> list[list[str]]:
    """The community's live households and people in the import's shape: the header row, then one
    row per person (a household without people: one row with the person's columns blank). `reads`,
    if given, gets each record sent as (type, what of it was sent), for the audit trail's read events."""
    pick = (lambda pair: pair[1]) if lang == "en" else (lambda pair: pair[0])
    grids = dict(session.execute(sa.select(Grid.id, Grid.name).where(Grid.community_id == community_id,
                                                                      Grid.deleted.is_(False))).all())
    households = list(session.scalars(sa.select(Household).where(
        Household.community_id == community_id, Household.deleted.is_(False))))
    households.sort(key=lambda h: (_natural(h.building), _natural(h.unit), _natural(h.room)))
    people: dict[str, list[Person]] = {}
    for person in session.scalars(sa.select(Person).join(Household, Household.id == Person.household_id).where(
            Household.community_id == community_id, Household.deleted.is_(False), Person.deleted.is_(False))
            .order_by(Person.created_at, Person.id)):
        people.setdefault(person.household_id, []).append(person)
    out = [[pick((column.zh, column.en)) for column in COLUMNS]]
    for household in households:
        area = household.area_m2
        base = [household.building, household.unit, household.room, pick(STATUS_NAMES[household.status]),
                "" if area is None else (str(int(area)) if float(area).is_integer() else str(area)),
                grids.get(household.grid_id, "") if household.grid_id else "", str(household.visit_cycle_days),
                "、".join(household.tags or []), household.notes or ""]
        if reads is not None:
            reads.append(("household", {"id": household.id, "community_id": community_id,
                                        **{name: getattr(household, name) for name in _EXPORTED_HOUSEHOLD}}))
            reads += [("person", {"id": person.id, "household_id": household.id,
                                  **{name: getattr(person, name) for name in _EXPORTED_PERSON}})
                      for person in people.get(household.id, [])]
        for person in people.get(household.id) or [None]:
            if person is None:
                out.append(base + ["", "", "", ""])
            else:
                out.append(base + [person.name, pick(RELATION_NAMES[person.relation]), person.phone or "",
                                   pick(("是", "yes")) if person.consent else pick(("否", "no"))])
    return out


_EXPORTED_HOUSEHOLD = ("building", "unit", "room", "status", "area_m2", "grid_id", "visit_cycle_days", "tags", "notes")
_EXPORTED_PERSON = ("name", "relation", "phone", "consent")


def _natural(text: str) -> tuple:
    """"2栋" before "10栋"."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text or ""))


def guarded(text: str) -> str:
    """A cell a spreadsheet will not run as a formula: one starting with = + - @ (or a tab or carriage
    return) is written with a leading apostrophe, which the import takes off again."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(rows: list[list[str]]) -> bytes:
    """UTF-8 with a BOM: Excel opens it as UTF-8 (without the BOM it guesses GBK)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([guarded(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[list[str]]) -> bytes:
    import openpyxl
    from openpyxl.cell.cell import TYPE_STRING

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("households")
    for row in rows:
        cells = []
        for text in row:
            cell = openpyxl.cell.WriteOnlyCell(sheet, value=guarded(text))
            cell.data_type = TYPE_STRING  # text, never a formula, whatever it starts with
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


__all__ = ["COLUMNS", "FileRefused", "Parsed", "Plan", "RowError", "apply", "check_rows", "export_rows",
           "manages", "parse", "plan", "read_table", "to_csv", "to_xlsx", "STATUS_NAMES", "RELATION_NAMES",
           "HOUSEHOLD_STATUSES", "RELATIONS"]
