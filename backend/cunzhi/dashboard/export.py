"""The dashboard as files a township sends upward: XLSX (Chinese headers, one sheet per table, a first sheet
with the unit, period, generation time and every formula) and CSV (UTF-8 with BOM, so Excel opens it)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

from cunzhi.core.clock import SHANGHAI
from cunzhi.dashboard import formulas as F

RATE_KEYS = {"mediation_success_rate", "agreement_fulfilment_rate", "on_time_rate", "six_no_village_rate",
             "safe_household_rate", "mediators_villages"}
LIST_COLUMNS = {
    "overdue_cases": ("case_number", "title", "org_code", "org_name", "parties", "risk_level", "status",
                      "received_on", "deadline", "link"),
    "red_risk_cases": ("case_number", "title", "org_code", "org_name", "parties", "risk_level", "status",
                       "received_on", "deadline", "link"),
    "overdue_incidents": ("title", "org_code", "org_name", "type", "severity", "state", "occurred_at", "deadline",
                          "link"),
    "notices_in_progress": ("nominee_name", "org_code", "org_name", "category", "notice_ends_on", "link"),
}
# list columns holding a code → the code table that names it (county-specific where the county has its own)
CODE_COLUMNS = {
    "overdue_cases": {"risk_level": "risk_level", "status": "case_status"},
    "red_risk_cases": {"risk_level": "risk_level", "status": "case_status"},
    "overdue_incidents": {"type": "incident_type", "severity": "incident_severity", "state": "incident_state"},
    "notices_in_progress": {"category": "nomination_category"},
}
TIME_COLUMNS = {"occurred_at"}  # ISO instants, written as Asia/Shanghai wall time to the minute
# English sheet names within Excel's 31 characters (the titles on screen are longer)
SHEETS_EN = {
    "disputes_by_category": "Disputes by category",
    "disputes_by_source": "Disputes by source",
    "disputes_by_risk": "Disputes by risk",
    "incidents_by_type": "Incidents by type",
    "incidents_by_state": "Incidents by state",
    "patrols_by_grid_week": "Patrols per grid per week",
    "points_top_households": "Points, top households",
    "notices_in_progress": "Nominations in public notice",
}
VILLAGE_ONLY = {"points_top_households"}  # dashboard.md: "village scope only" — not on a township's screen
Labels = dict[str, dict[str, str]]


def table_names(data: dict) -> list[str]:
    names = ["figures", *(b for b in data["breakdowns"] if b not in VILLAGE_ONLY or data.get("level") == "village"),
             *data["lists"]]
    if data.get("compare"):
        names.append("compare")
    return names


def people_time(value: str | None) -> str | None:
    """2026-10-08T01:30:00Z → 2026-10-08 09:30 (Asia/Shanghai), as people write it."""
    if not value:
        return value
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if dt.tzinfo is not None:
        dt = dt.astimezone(SHANGHAI)
    return dt.strftime("%Y-%m-%d %H:%M")


def _cell(name: str, col: str, value: Any, labels: Labels) -> Any:
    table = CODE_COLUMNS.get(name, {}).get(col)
    if table and isinstance(value, str):
        return labels.get(table, {}).get(value, value)
    if col in TIME_COLUMNS and isinstance(value, str):
        return people_time(value)
    return value


def table(data: dict, name: str, lang: str, labels: Labels | None = None) -> tuple[str, list[str], list[list[Any]]]:
    """(title, headers, rows) of one table of the dashboard; codes in list columns named by ``labels`` (code
    table → code → name in ``lang``)."""
    labels = labels or {}
    h = lambda k: F.header(k, lang)  # noqa: E731
    if name == "figures":
        title = "Figures" if lang == "en" else "指标"
        heads = [h(k) for k in ("key", "label", "value", "numerator", "denominator", "target", "formula", "drill")]
        rows = [[k, f["label"], f["value"], f["numerator"], f["denominator"], f["target"], f["formula"],
                 f["drill"]] for k, f in data["figures"].items()]
        return title, heads, rows
    if name in data["breakdowns"]:
        title = data["titles"]["breakdowns"][name]
        items = data["breakdowns"][name]
        if name == "six_no_by_village":
            names = labels.get("six_no_indicator", {})
            heads = [h("org_code"), h("org_name"), h("state"), h("broken"), h("count"), h("drill")]
            rows = [[i["key"], i["label"], i["state_label"], "、".join(names.get(b, b) for b in i["broken"]),
                     i["count"], i["drill"]] for i in items]
        else:
            heads = [h("key"), h("label"), h("count"), h("drill")]
            rows = [[i["key"], i["label"], i["count"], i["drill"]] for i in items]
        return title, heads, rows
    if name in data["lists"]:
        cols = LIST_COLUMNS[name]
        return data["titles"]["lists"][name], [h(c) for c in cols], [
            [_cell(name, c, i.get(c), labels) for c in cols] for i in data["lists"][name]]
    if name == "compare" and data.get("compare"):
        cmp = data["compare"]
        heads = [h("org_code"), h("org_name")] + [cmp["labels"][k] for k in cmp["keys"]]
        rows = [[t["org_code"], t["org_name"]] + [t["figures"][k]["value"] for k in cmp["keys"]]
                for t in cmp["townships"]]
        return ("Townships compared" if lang == "en" else "乡镇对比"), heads, rows
    raise KeyError(name)


def to_csv(data: dict, name: str, lang: str, labels: Labels | None = None) -> bytes:
    _, heads, rows = table(data, name, lang, labels)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(heads)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    """A sheet name Excel takes (≤ 31 characters, none of []:*?/\\), unique in the workbook; a long English
    title is cut at a word, never inside one."""
    base = re.sub(r"[\[\]:*?/\\]", "", title).strip()
    if len(base) > 28:
        cut = base[:28]
        if " " in cut and base[28] != " ":
            cut = cut[:cut.rindex(" ")]
        base = cut.rstrip(" ,(-")
    base = base or "sheet"
    out, n = base, 2
    while out in used:
        out, n = f"{base} {n}" if " " in base else f"{base}{n}", n + 1
    used.add(out)
    return out


def info_rows(data: dict, lang: str) -> list[list[Any]]:
    en = lang == "en"
    rows: list[list[Any]] = [
        ["Unit" if en else "单位", data["org_name"]],
        ["Unit code" if en else "单位代码", data["org_code"]],
        ["Period" if en else "统计期", f"{data['from']} — {data['to']}"],
        ["Generated at" if en else "生成时间", people_time(data["as_of"])],
        [],
        ["Figure" if en else "指标", "Formula" if en else "计算公式", "Target" if en else "目标"],
    ]
    for f in data["figures"].values():
        rows.append([f["label"], f["formula"], f["target"]])
    return rows


def sheet_name(data: dict, name: str, lang: str, title: str) -> str:
    return SHEETS_EN.get(name, title) if lang == "en" else title


def to_xlsx(data: dict, names: list[str], lang: str, labels: Labels | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    info = wb.active
    used: set[str] = set()
    info.title = _sheet_title("About" if lang == "en" else "说明", used)
    for r in info_rows(data, lang):
        info.append(r)
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 90
    for name in names:
        title, heads, rows = table(data, name, lang, labels)
        ws = wb.create_sheet(_sheet_title(sheet_name(data, name, lang, title), used))
        ws.append(heads)
        for c in ws[1]:
            c.font = Font(bold=True)
        for r in rows:
            ws.append(r)
        if name == "figures":
            for row in ws.iter_rows(min_row=2):
                if row[0].value in RATE_KEYS:
                    for c in (row[2], row[5]):
                        c.number_format = "0.0%"
        for col, width in zip("ABCDEFGH", (24, 24, 12, 10, 10, 10, 60, 50), strict=False):
            ws.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
