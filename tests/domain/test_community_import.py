"""Reading a community's household file (server/community/importing.py), without a database: the file
types and encodings Chinese offices save, the header, each row's checks and the export's guard against
formula injection."""
from __future__ import annotations

import io

import openpyxl
import pytest

from server.community import importing
from server.community.importing import FileRefused, RowError, check_rows, parse

HEADER = "楼栋,单元,房号,状态,面积,网格,走访周期(天),标签,备注,姓名,关系,手机号码,同意保存信息"
GOOD = [
    "1栋,1单元,101,自住,88.5,一号网格,90,独居老人、重点,,张三,业主,138 0000 0001,是",
    "1栋,1单元,101,,,,,,,李四,家属,,",
    "1栋,2单元,201,出租,72,二号网格,60,,租客换过,王五,租户,,否",
    "2栋,,0302,空置,,,,,,,,,",
]


def csv_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def checked(lines: list[str], header: str = HEADER):
    return check_rows(parse("file.csv", csv_bytes([header, *lines])).rows)


def codes(errors: list[RowError]) -> list[tuple[int, str | None, str]]:
    return [(e.row, e.column, e.code) for e in errors]


# ---- files and encodings --------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_a_csv_reads_the_same_in_every_encoding_excel_saves(encoding):
    parsed = parse("住户.csv", csv_bytes([HEADER, *GOOD], encoding))
    assert [row for row, _ in parsed.rows] == [2, 3, 4, 5]
    assert parsed.rows[0][1]["building"] == "1栋" and parsed.rows[0][1]["tags"] == "独居老人、重点"


def test_a_tab_separated_unicode_text_file_reads_too():
    text = "\r\n".join(line.replace(",", "\t") for line in [HEADER, *GOOD]).encode("utf-16")
    groups, errors = check_rows(parse("住户.txt", text).rows)
    assert not errors and len(groups) == 3


def test_an_excel_workbook_reads_numbers_as_people_wrote_them():
    data = xlsx_bytes([HEADER.split(","), [1, 1, 301, "自住", 88.0, None, 90, None, None, "张三", "业主",
                                            13800000001, "是"]])
    parsed = parse("住户.xlsx", data)
    cells = parsed.rows[0][1]
    assert (cells["building"], cells["unit"], cells["room"], cells["area_m2"], cells["phone"]) == \
        ("1", "1", "301", "88", "13800000001")
    groups, errors = check_rows(parsed.rows)
    assert not errors and groups[0].key == ("1", "1", "301")


@pytest.mark.parametrize("name, data, code", [
    ("住户.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old_excel"),
    ("住户.pdf", b"%PDF-1.4 ...", "wrong_type"),
    ("住户.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "wrong_type"),
    ("住户.docx", xlsx_bytes([["楼栋", "房号"]]), "wrong_type"),
    ("住户.xlsx", b"PK\x03\x04 not really a zip", "wrong_type"),
    ("住户.csv", b"   \r\n", "file_empty"),
    ("住户.csv", "楼栋,房号\r\n".encode(), "no_rows"),
])
def test_a_file_that_is_not_a_table_is_refused_as_a_whole(name, data, code):
    with pytest.raises(FileRefused) as refused:
        parse(name, data)
    assert refused.value.error.code == code and refused.value.error.row == 0


def test_huge_files_are_refused_before_they_are_read():
    with pytest.raises(FileRefused) as refused:
        parse("big.csv", b"a" * (importing.MAX_BYTES + 1))
    assert refused.value.error.code == "file_too_big"
    lines = ["楼栋,房号"] + [f"1栋,{i}" for i in range(importing.MAX_ROWS + 1)]
    with pytest.raises(FileRefused) as refused:
        parse("long.csv", csv_bytes(lines))
    assert refused.value.error.code == "too_many_rows"


def test_the_header_must_name_building_and_room_and_nothing_unknown():
    with pytest.raises(FileRefused) as refused:
        parse("a.csv", csv_bytes(["楼栋,单元,状态", "1栋,1,自住"]))
    assert refused.value.error.code == "missing_columns" and refused.value.error.params == {"keys": ["room"]}
    with pytest.raises(FileRefused) as refused:
        parse("a.csv", csv_bytes(["楼栋,房号,手机号吗", "1栋,101,1"]))
    assert refused.value.error.code == "unknown_columns" and "手机号吗" in refused.value.error.params["names"]
    with pytest.raises(FileRefused) as refused:
        parse("a.csv", csv_bytes(["楼栋,房号,房间", "1栋,101,102"]))
    assert refused.value.error.code == "duplicate_columns"


def test_english_and_alternative_column_names_are_understood():
    groups, errors = checked(["B1,301,Rented,13800000001,Ann,yes"], header="Building,Room,Status,phone,Name,consent")
    assert not errors and groups[0].values == {"status": "rented"}
    assert groups[0].people == [(2, {"name": "Ann", "consent": True, "phone": "13800000001"})]


# ---- rows -----------------------------------------------------------------------------------------

def test_good_rows_group_by_address_with_their_people():
    groups, errors = checked(GOOD)
    assert errors == []
    first, second, third = groups
    assert first.key == ("1栋", "1单元", "101") and first.grid == "一号网格"
    assert first.values == {"status": "self_occupied", "area_m2": 88.5, "visit_cycle_days": 90,
                            "tags": ["独居老人", "重点"]}
    assert [p["name"] for _, p in first.people] == ["张三", "李四"]
    assert first.people[0][1] == {"name": "张三", "relation": "owner", "consent": True, "phone": "13800000001"}
    assert second.values["notes"] == "租客换过" and second.people[0][1]["consent"] is False
    assert third.key == ("2栋", "", "0302") and third.people == []


@pytest.mark.parametrize("building", ["=HYPERLINK(\"x\")", "+1", "-1栋", "@A1", "1栋<b>", "1栋\x07", "一" * 21])
def test_bad_building_names_are_refused_with_their_row_and_column(building):
    _, errors = checked([f'"{building}",1单元,101,,,,,,,,,,'])
    assert [(e.row, e.column) for e in errors] == [(2, "building")]
    assert errors[0].code in ("bad_name", "too_long")


def test_each_bad_cell_is_named():
    _, errors = checked([
        "1栋,1单元,,自住,,,,,,,,,",  # no room
        "1栋,1单元,102,住着,abc,,0,,,,,,",  # unknown status, area and cycle not numbers in range
        "1栋,1单元,103,,,,,,,赵六,朋友,13800000001,",  # unknown relation; a phone without consent
        "1栋,1单元,104,,,,,,,,业主,,",  # a relation with no one named
        "1栋,1单元,105,,,,,,,钱七,,12ab,是",  # not a phone number
        "1栋,1单元,106,,,,,,,孙八,,,也许",
    ])
    assert codes(errors) == [
        (2, "room", "required"),
        (3, "area_m2", "bad_number"), (3, "status", "bad_choice"), (3, "visit_cycle_days", "bad_number"),
        (4, "phone", "consent_required"), (4, "relation", "bad_choice"),
        (5, "person_name", "required"),
        (6, "phone", "invalid_phone"),
        (7, "consent", "bad_yes_no"),
    ]


def test_duplicate_and_contradicting_rows_are_refused():
    _, errors = checked([
        "1栋,1单元,101,自住,,,,,,,,,",
        "1栋,1单元,101,自住,,,,,,,,,",  # the same address again, nobody named
        "3栋,1单元,101,,,,,,,张三,,,",
        "3栋,1单元,101,,,,,,,张三,,,",  # the same person twice
        "3栋,1单元,101,出租,,,,,,李四,,,",
        "3栋,1单元,101,空置,,,,,,王五,,,",  # contradicts the status of row 6
        "３栋,1单元,101,,,,,,,赵六,,,",  # full-width digits: the same address
    ])
    assert codes(errors) == [(3, None, "duplicate_row"), (5, "person_name", "duplicate_person"),
                             (7, "status", "conflict")]
    assert errors[2].params == {"first": 6}


# ---- export -------------------------------------------------------------------------------------------

def test_the_export_guards_formulas_and_the_import_takes_the_guard_off():
    rows = [["楼栋", "房号", "备注", "姓名"], ["1栋", "101", "=cmd|' /C calc'!A0", "@SUM(1)"],
            ["1栋", "102", "-5", "+86"]]
    csv_data = importing.to_csv(rows)
    assert csv_data.startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8
    assert "'=cmd" in csv_data.decode("utf-8-sig") and "'@SUM" in csv_data.decode("utf-8-sig")
    xlsx = importing.to_xlsx(rows)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).worksheets[0]
    assert sheet["C2"].data_type == "s" and sheet["C2"].value == "'=cmd|' /C calc'!A0"
    for name, data in (("a.csv", csv_data), ("a.xlsx", xlsx)):
        parsed = parse(name, data)
        assert parsed.rows[0][1]["notes"] == "=cmd|' /C calc'!A0" and parsed.rows[0][1]["person_name"] == "@SUM(1)"
        assert parsed.rows[1][1]["notes"] == "-5"
