"""The dashboard as files a township sends upward: XLSX (Chinese headers, one sheet per table, a first sheet
with the unit, period, generation time and every formula) and CSV (UTF-8 with BOM, so Excel opens it)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from cunzhi.dashboard import formulas as F

RATE_KEYS = {"mediation_success_rate", "agreement_fulfilment_rate", "on_time_rate", "six_no_village_rate",
             "safe_household_rate", "mediators_villages"}
LIST_COLUMNS = {
    "overdue_cases": ("case_number", "title", "org_code", "parties", "risk_level", "status", "received_on",
                      "deadline", "link"),
    "red_risk_cases": ("case_number", "title", "org_code", "parties", "risk_level", "status", "received_on",
                       "deadline", "link"),
    "overdue_incidents": ("title", "org_code", "type", "severity", "state", "occurred_at", "deadline", "link"),
    "notices_in_progress": ("nominee_name", "org_code", "category", "notice_ends_on", "link"),
}


def table_names(data: dict) -> list[str]:
    names = ["figures", *data["breakdowns"], *data["lists"]]
    if data.get("compare"):
        names.append("compare")
    return names


def table(data: dict, name: str, lang: str) -> tuple[str, list[str], list[list[Any]]]:
    """(title, headers, rows) of one table of the dashboard."""
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
            heads = [h("org_code"), h("org_name"), h("state"), h("broken"), h("count"), h("drill")]
            rows = [[i["key"], i["label"], i["state_label"], "、".join(i["broken"]), i["count"], i["drill"]]
                    for i in items]
        else:
            heads = [h("key"), h("label"), h("count"), h("drill")]
            rows = [[i["key"], i["label"], i["count"], i["drill"]] for i in items]
        return title, heads, rows
    if name in data["lists"]:
        cols = LIST_COLUMNS[name]
        return data["titles"]["lists"][name], [h(c) for c in cols], [[i.get(c) for c in cols]
                                                                     for i in data["lists"][name]]
    if name == "compare" and data.get("compare"):
        cmp = data["compare"]
        heads = [h("org_code"), h("org_name")] + [cmp["labels"][k] for k in cmp["keys"]]
        rows = [[t["org_code"], t["org_name"]] + [t["figures"][k]["value"] for k in cmp["keys"]]
                for t in cmp["townships"]]
        return ("Townships compared" if lang == "en" else "乡镇对比"), heads, rows
    raise KeyError(name)


def to_csv(data: dict, name: str, lang: str) -> bytes:
    _, heads, rows = table(data, name, lang)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(heads)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "", title)[:28] or "sheet"
    out, n = base, 2
    while out in used:
        out, n = f"{base}{n}", n + 1
    used.add(out)
    return out


def info_rows(data: dict, lang: str) -> list[list[Any]]:
    en = lang == "en"
    rows: list[list[Any]] = [
        ["Unit" if en else "单位", data["org_name"]],
        ["Unit code" if en else "单位代码", data["org_code"]],
        ["Period" if en else "统计期", f"{data['from']} — {data['to']}"],
        ["Generated at" if en else "生成时间", data["as_of"]],
        [],
        ["Figure" if en else "指标", "Formula" if en else "计算公式", "Target" if en else "目标"],
    ]
    for f in data["figures"].values():
        rows.append([f["label"], f["formula"], f["target"]])
    return rows


def to_xlsx(data: dict, names: list[str], lang: str) -> bytes:
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
        title, heads, rows = table(data, name, lang)
        ws = wb.create_sheet(_sheet_title(title, used))
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
