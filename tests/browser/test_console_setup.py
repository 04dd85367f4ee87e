"""Loading a community in real Chromium: a supervisor uploads a household file with a wrong row, reads
the row's error in Chinese on the preview and finds nothing written; the corrected file then imports,
and its households are found by the numbers of their address (a name is never sent)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.community.models import Household, Person
from tests.factories import make_community, make_grid, make_user

pytestmark = pytest.mark.browser

HEADER = "楼栋,单元,房号,状态,面积,网格,姓名,关系,手机号码,同意保存信息"
GOOD = ["1栋,1单元,101,自住,88.5,一号网格,张三,业主,13800000001,是",
        "1栋,1单元,102,出租,70,一号网格,王五,租户,,否"]


@pytest.fixture
def community(session):
    community = make_community(name="翠湖花园")
    li = make_user("butler", username="li", name="李管家", community_id=community.id)
    make_user("supervisor", username="wang", name="王主管", community_id=community.id)
    make_grid(community, li, name="一号网格")
    return community


def csv_file(lines: list[str]) -> dict:
    return {"name": "住户.csv", "mimeType": "text/csv",
            "buffer": ("\r\n".join([HEADER, *lines]) + "\r\n").encode("gbk")}  # as Chinese Excel saves it


def counts(session) -> tuple[int, int]:
    session.rollback()
    return (session.scalar(sa.select(sa.func.count()).select_from(Household)),
            session.scalar(sa.select(sa.func.count()).select_from(Person)))


def test_a_wrong_row_is_shown_and_nothing_written_then_the_corrected_file_imports(new_desk, community, session):
    desk = new_desk("wang")
    desk.click("[data-testid=nav-setup]")
    desk.locator("[data-testid=setup-import]").wait_for()

    desk.set_input_files("[data-testid=setup-import] [data-testid=setup-file]",
                         csv_file([*GOOD, "2栋,1单元,301,自住,90,三号网格,,,,"]))
    desk.click("[data-testid=setup-import] [data-testid=setup-upload]")
    refused = desk.locator("[data-testid=preview-refused]")
    refused.wait_for()
    assert "发现 1 处错误，未导入任何数据" in refused.inner_text()
    row = desk.locator("[data-testid=preview-error][data-row='4']")
    assert row.locator("td").all_inner_texts() == ["4", "网格", "没有名为“三号网格”的网格，请先新建该网格。"]
    assert desk.locator("[data-testid=setup-confirm]").count() == 0
    assert counts(session) == (0, 0)

    desk.set_input_files("[data-testid=setup-file]", csv_file([*GOOD, "2栋,1单元,301,自住,90,一号网格,,,,"]))
    desk.click("[data-testid=setup-upload]")
    desk.locator("[data-testid=preview-summary]").wait_for()
    assert desk.locator("[data-testid=count-new-households]").inner_text() == "3"
    assert desk.locator("[data-testid=count-new-people]").inner_text() == "2"
    assert counts(session) == (0, 0)  # the preview writes nothing
    desk.click("[data-testid=setup-confirm]")
    done = desk.locator("[data-testid=done]")
    done.wait_for()
    assert "导入完成：新增住户 3 户" in done.inner_text()
    assert counts(session) == (3, 2)
    assert desk.locator("[data-testid=setup-household-row]").count() == 3
    assert desk.locator("[data-testid=households-total]").inner_text() == "共 3 户"

    # The search takes the numbers of an address; a name never leaves the page (the form will not send it).
    search = desk.locator("[data-testid=households-search]")
    search.fill("张三")
    before = desk.url
    desk.click("[data-testid=households-filter] button[type=submit]")
    assert desk.url == before and "q=" not in desk.url
    assert search.evaluate("field => field.validity.patternMismatch")
    search.fill("1-102")
    desk.click("[data-testid=households-filter] button[type=submit]")
    desk.wait_for_url("**q=1-102**")
    assert desk.locator("[data-testid=setup-household-row]").count() == 1
    assert desk.locator("[data-testid=setup-household-row] td").first.inner_text() == "1栋-1单元-102"
