"""Exports read back: the XLSX cell by cell (the first sheet with unit, period, time and every formula; one
sheet per table with Chinese headers), the CSV with its BOM; names masked by role; bad input."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import quote

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
    period = f"{PERIOD['from']}-{PERIOD['to']}"
    assert f'filename="dashboard-{WT}-{period}.xlsx"' in r.headers["content-disposition"]
    assert f"filename*=UTF-8''{quote(f'万福镇看板-{period}.xlsx')}" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[:2] == ["说明", "指标"]
    # about, figures, nine breakdowns (the points ranking is a village's: not on a township's screen), four lists
    assert len(wb.sheetnames) == 2 + 9 + 4 and "道德银行积分排行（本村）" not in wb.sheetnames
    info = wb["说明"]
    assert [info.cell(i, 1).value for i in range(1, 5)] == ["单位", "单位代码", "统计期", "生成时间"]
    assert (info["B1"].value, info["B2"].value) == ("万福镇", WT)
    assert info["B3"].value == f"{PERIOD['from']} — {PERIOD['to']}"
    assert re.fullmatch(rf"{h.today().isoformat()} \d\d:\d\d", info["B4"].value)  # Asia/Shanghai, to the minute
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
    assert [c.value for c in villages[2]][:5] == [W, "万福村村民委员会", "创建中", "无刑事案件", 1]
    overdue = wb["超期案件"]
    assert [c.value for c in overdue[1]] == ["案件编号", "标题", "单位代码", "单位", "当事人", "风险等级", "状态",
                                             "受理日期", "期限", "记录链接"]
    rows = [[c.value for c in row] for row in overdue.iter_rows(min_row=2)]
    assert [r[1] for r in rows] == ["C11 纠纷", "C1 纠纷", "C2 纠纷"]
    assert {r[4] for r in rows} == {"张*、欧***"}  # a viewer: masked
    # codes named as on screen (the code tables), the village by its name
    assert [r[3:7] for r in rows] == [["万福村村民委员会", "张*、欧***", "蓝色（常规）", "调解中"],
                                      ["万福村村民委员会", "张*、欧***", "红色（立即上报）", "调解中"],
                                      ["万福村村民委员会", "张*、欧***", "橙色（当日上报）", "已受理"]]
    incidents = wb["超期事件"]
    assert [c.value for c in incidents[1]] == ["标题", "单位代码", "单位", "类型", "严重程度", "状态", "发生时间", "期限",
                                               "记录链接"]
    # I2 public_order, serious, 10 days ago 10:00; I3 criminal_case, serious, 5 days ago 10:00 (Asia/Shanghai)
    assert [[c.value for c in row][:7] for row in incidents.iter_rows(min_row=2)] == [
        ["I2 事件", W, "万福村村民委员会", "治安问题", "较大", "已上报", f"{h.days_ago(10)} 10:00"],
        ["I3 事件", W, "万福村村民委员会", "刑事案件", "较大", "已上报", f"{h.days_ago(5)} 10:00"]]
    notices = wb["公示中的推荐"]
    assert [[c.value for c in row][:4] for row in notices.iter_rows(min_row=2)] == [
        ["李**", W, "万福村村民委员会", "孝老爱亲"]]
    patrols = wb["各网格每周巡查次数"]  # grids by name with their week: P1 P2 (grid 001), P3 (grid 002)
    names = sorted(row[1].value for row in patrols.iter_rows(min_row=2))
    assert len(names) == 2 and all(re.fullmatch(r"万福村[一二]组网格 · 第\d+周 \d\d-\d\d至\d\d-\d\d", n) for n in names)


def test_xlsx_names_in_full_for_a_township_admin(world):
    wb = load_workbook(io.BytesIO(export(world.c("wanfu.admin"), format="xlsx", table="overdue_cases").content))
    assert wb.sheetnames == ["说明", "超期案件"]
    assert {wb["超期案件"].cell(i, 5).value for i in range(2, 5)} == {"张三、欧阳娜娜"}  # column 当事人
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
    assert [row[1] for row in rows[1:]] == ["C1 纠纷", "C3 纠纷"] and rows[1][4] == "张*、欧***"


def test_english_export(world):
    c = world.login("wanfu.viewer", lang="en")
    r = export(c, format="xlsx")
    period = f"{PERIOD['from']}-{PERIOD['to']}"
    assert r.headers["content-disposition"] == (f'attachment; filename="dashboard-{WT}-{period}.xlsx"; '
                                                f"filename*=UTF-8''dashboard-{WT}-{period}.xlsx")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == [
        "About", "Figures", "Disputes by category", "Disputes by source", "Disputes by risk", "Cases by status (now)",
        "Incidents by type", "Incidents by state", "Nominations by stage (now)", "Patrols per grid per week",
        "Six-no state by village", "Overdue cases", "Open red-risk cases", "Overdue incidents",
        "Nominations in public notice"]
    assert wb["About"]["A1"].value == "Unit"
    assert [c.value for c in wb["Figures"][1]][:3] == ["Key", "Name", "Value"]
    figs = {row[0].value: row[6].value for row in wb["Figures"].iter_rows(min_row=2)}
    assert not any(re.search(r"[a-z]+_[a-z]+|`", f) for f in figs.values()), figs  # no wire names in formulas
    overdue = [[c.value for c in row] for row in wb["Overdue cases"].iter_rows(min_row=2)]
    assert [r[5:7] for r in overdue] == [["Blue (routine)", "Mediating"], ["Red (report now)", "Mediating"],
                                         ["Orange (same day)", "Registered"]]
    assert wb["Overdue incidents"]["E2"].value == "Serious" and wb["Six-no state by village"]["D2"].value == (
        "No criminal case")
    r = export(c, format="csv", table="overdue_incidents")
    assert f"filename*=UTF-8''dashboard-{WT}-{period}-overdue_incidents.csv" in r.headers["content-disposition"]


def test_sheet_names_fit_excel_and_keep_words():
    from cunzhi.dashboard.export import _sheet_title

    used: set[str] = set()
    assert _sheet_title("Morality-bank points, top households (village)", used) == "Morality-bank points, top"
    assert _sheet_title("Morality-bank points, top households (village)", used) == "Morality-bank points, top 2"
    assert _sheet_title("纠纷类别（统计期内受理）", used) == "纠纷类别（统计期内受理）"
    assert _sheet_title("a/b: c?", used) == "ab c"
    assert all(len(n) <= 31 for n in used)


def test_codes_named_by_the_countys_own_table(world):
    """A county with its own incident types: the export names codes by its table, not the defaults."""
    import sqlalchemy as sa

    rows = [{"table_name": "incident_type", "county_code": WT[:6], "code": code, "name_zh": zh, "name_en": en,
             "sort": i, "active": True}
            for i, (code, zh, en) in enumerate((("public_order", "社会治安（本县）", "Public order (county)"),
                                                ("criminal_case", "刑事案件（本县）", "Criminal case (county)")))]
    with world.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO code_entry (table_name, county_code, code, name_zh, name_en, sort, active) "
                             "VALUES (:table_name, :county_code, :code, :name_zh, :name_en, :sort, :active)"), rows)
    try:
        r = export(world.c("wanfu.viewer"), format="csv", table="overdue_incidents")
        rows_ = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert [row[3] for row in rows_[1:]] == ["社会治安（本县）", "刑事案件（本县）"]
    finally:
        with world.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM code_entry WHERE county_code = :c AND table_name = 'incident_type'"),
                         {"c": WT[:6]})


def test_points_ranking_exports_for_a_village_only(world):
    h.assert_error(world.c("wanfu.viewer").get("/api/v1/dashboard/export",
                                               params={**PERIOD, "format": "csv", "table": "points_top_households"}),
                   422, "validation_error")
    wb = load_workbook(io.BytesIO(export(world.c("wanfucun.admin"), format="xlsx").content))
    ws = wb["道德银行积分排行（本村）"]
    assert [(row[1].value, row[2].value) for row in ws.iter_rows(min_row=2)] == [("王建国", 15), ("张德明", -3)]


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
