"""Exports read back: the XLSX cell by cell (the first sheet with unit, period, time and every formula; one
sheet per table with Chinese headers), the CSV with its BOM; names masked by role; bad input."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from tests.api import helpers as h
from tests.dashboard.conftest import W, WT

PERIOD = {"from": h.days_ago(30), "to": h.today().isoformat()}


def export(client, **params):
    r = client.get("/api/v1/dashboard/export", params={**PERIOD, **params})
    assert r.status_code == 200, r.text
    return r


def test_xlsx_whole_dashboard(world):
    r = export(world.c("wanfu.viewer"), format="xlsx")
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert f"dashboard-{WT}-{PERIOD['from']}-{PERIOD['to']}.xlsx" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[:2] == ["说明", "指标"]
    assert len(wb.sheetnames) == 2 + 10 + 4  # about, figures, ten breakdowns, four lists
    info = wb["说明"]
    assert [info.cell(i, 1).value for i in range(1, 5)] == ["单位", "单位代码", "统计期", "生成时间"]
    assert (info["B1"].value, info["B2"].value) == ("万福镇", WT)
    assert info["B3"].value == f"{PERIOD['from']} — {PERIOD['to']}"
    assert info["B4"].value.startswith(h.today().isoformat())
    assert [info.cell(6, j).value for j in (1, 2, 3)] == ["指标", "计算公式", "目标"]
    formulas = {info.cell(i, 1).value: (info.cell(i, 2).value, info.cell(i, 3).value) for i in range(7, 7 + 18)}
    assert len(formulas) == 18
    assert formulas["六无村创建率"][1] == 0.8 and "乡镇已认定" in formulas["六无村创建率"][0]
    assert formulas["平安家庭创建率"][1] == 0.97
    assert "终止调解" in formulas["调解成功率"][0]
    figs = wb["指标"]
    assert [c.value for c in figs[1]] == ["指标", "名称", "数值", "分子", "分母", "目标", "计算公式", "明细链接"]
    rows = {row[0].value: [c.value for c in row] for row in figs.iter_rows(min_row=2)}
    # hand counts (conftest): received in the last 30 days: C3 C5 C6 C7 C9 C12 (C10 deleted)
    assert rows["disputes_received"][2] == 6
    assert rows["disputes_received"][7].startswith("/api/v1/mediation-cases?org_code=340321108&received_from=")
    assert rows["mediation_success_rate"][2:6] == [0.8, 4, 5, None]
    assert figs.cell(row=3, column=3).number_format == "0.0%"
    assert rows["six_no_village_rate"][2:6] == [0.0625, 1, 16, 0.8]
    assert rows["safe_household_rate"][2:6] == [0.6, 3, 5, 0.97]
    assert rows["patrols_completed"][2] == 3
    cat = wb["纠纷类别（统计期内受理）"]
    assert [c.value for c in cat[1]] == ["指标", "名称", "数量", "明细链接"]
    got = {row[0].value: (row[1].value, row[2].value) for row in cat.iter_rows(min_row=2)}
    # C3 C12 neighbor; C5 labor_wage; C6 contract; C7 damages; C9 land_acquisition
    assert got == {"neighbor": ("邻里", 2), "labor_wage": ("劳动争议/农民工工资", 1), "contract": ("合同", 1),
                   "damages": ("损害赔偿", 1), "land_acquisition": ("征地拆迁", 1)}
    villages = wb["各村六无创建状态"]
    assert [c.value for c in villages[1]] == ["单位代码", "单位", "状态", "未达标指标", "数量", "明细链接"]
    assert [c.value for c in villages[2]][:5] == [W, "万福村村民委员会", "创建中", "no_criminal_case", 1]
    overdue = wb["超期案件"]
    assert [c.value for c in overdue[1]] == ["案件编号", "标题", "单位代码", "当事人", "风险等级", "状态", "受理日期",
                                             "期限", "记录链接"]
    assert [overdue.cell(i, 2).value for i in range(2, 5)] == ["C11 纠纷", "C1 纠纷", "C2 纠纷"]
    assert {overdue.cell(i, 4).value for i in range(2, 5)} == {"张*、欧***"}  # a viewer: masked


def test_xlsx_names_in_full_for_a_township_admin(world):
    wb = load_workbook(io.BytesIO(export(world.c("wanfu.admin"), format="xlsx", table="overdue_cases").content))
    assert wb.sheetnames == ["说明", "超期案件"]
    assert {wb["超期案件"].cell(i, 4).value for i in range(2, 5)} == {"张三、欧阳娜娜"}
    assert h.phone(3, 1) not in export(world.c("wanfu.admin"), format="csv", table="overdue_cases").text


def test_csv_tables_with_bom(world):
    r = export(world.c("wanfu.viewer"), format="csv")
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["指标", "名称", "数值", "分子", "分母", "目标", "计算公式", "明细链接"]
    by = {row[0]: row for row in rows[1:]}
    assert len(by) == 18
    assert by["disputes_received"][1:3] == ["受理纠纷数", "6"]
    assert by["on_time_rate"][2:5] == ["0.7143", "5", "7"]  # ended today: C4 C5 C6 C7 C8 C9 C12; late C4 C8
    assert by["safe_household_rate"][5] == "0.97"
    assert by["cases_declined"][4] == ""  # no denominator: an empty cell
    r = export(world.c("wanfu.viewer"), format="csv", table="disputes_by_risk")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["指标", "名称", "数量", "明细链接"]
    # C3 red; C9 orange; C5 yellow; C6 C7 C12 blue
    assert {row[0]: int(row[2]) for row in rows[1:]} == {"red": 1, "orange": 1, "yellow": 1, "blue": 3}
    r = export(world.c("wanfu.viewer"), format="csv", table="red_risk_cases")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["C1 纠纷", "C3 纠纷"] and rows[1][3] == "张*、欧***"


def test_english_export(world):
    c = world.login("wanfu.viewer", lang="en")
    wb = load_workbook(io.BytesIO(export(c, format="xlsx").content))
    assert wb.sheetnames[:2] == ["About", "Figures"]
    assert wb["About"]["A1"].value == "Unit"
    assert [c.value for c in wb["Figures"][1]][:3] == ["Key", "Name", "Value"]


def test_county_export_has_the_compare_sheet(world):
    wb = load_workbook(io.BytesIO(export(world.c("county.admin"), format="xlsx").content))
    assert wb.sheetnames[-1] == "乡镇对比"
    ws = wb["乡镇对比"]
    assert [c.value for c in ws[1]][:3] == ["单位代码", "单位", "受理纠纷数"]
    rows = {row[0].value: [c.value for c in row] for row in ws.iter_rows(min_row=2)}
    assert len(rows) == 23
    assert rows[WT][1:3] == ["万福镇", 6] and rows["340321109"][2] == 1  # C13
    r = export(world.c("county.admin"), format="csv", table="compare")
    assert r.content.startswith(b"\xef\xbb\xbf")
    head, *body = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert head[:3] == ["单位代码", "单位", "受理纠纷数"] and len(body) == 23
    h.assert_error(world.c("wanfu.viewer").get("/api/v1/dashboard/export", params={"table": "compare"}), 422,
                   "validation_error")  # a township has nothing to compare
