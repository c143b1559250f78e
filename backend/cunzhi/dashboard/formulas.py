"""Labels and formula sentences of every figure, breakdown and list (zh-CN, en), and the plan's targets."""

from __future__ import annotations

# key → (label zh, label en, formula zh, formula en)
FIGURES: dict[str, tuple[str, str, str, str]] = {
    "disputes_received": (
        "受理纠纷数", "Disputes received",
        "受理日期在统计期内的调解案件数", "Cases received in the period (by the date received)"),
    "mediation_success_rate": (
        "调解成功率", "Mediation success rate",
        "统计期内调解结束且结果为“达成协议”的案件数 ÷ 统计期内调解结束且结果为“达成协议”或“终止调解”的案件数（不予受理、转交另计）",
        "Cases whose mediation ended in the period with an agreement ÷ cases that ended in the period with an "
        "agreement or terminated (declined and referred are counted apart)"),
    "cases_declined": (
        "不予受理数", "Cases declined",
        "统计期内以“不予受理”结束的案件数（不计入调解成功率分母）",
        "Cases declined in the period (not in the success rate's denominator)"),
    "cases_referred": (
        "转交数", "Cases referred",
        "统计期内以“转交”结束的案件数（不计入调解成功率分母）",
        "Cases referred elsewhere in the period (not in the success rate's denominator)"),
    "agreement_fulfilment_rate": (
        "协议履行率", "Agreement fulfilment rate",
        "达成协议、且协议履行期限（未填则为签订日期）在统计期内并且不晚于今天的案件中，至今已履行的案件数 ÷ 这些案件数",
        "Of the cases ended with an agreement whose performance date (if none, the date signed) falls in the "
        "period and is not after today: those fulfilled by now ÷ those cases"),
    "on_time_rate": (
        "按期办结率", "On-time rate",
        "统计期内结束且结束日期不晚于期限（含延期）的案件数 ÷ 统计期内结束的案件数（四种结束状态）",
        "Cases ended in the period on or before their deadline (after extensions) ÷ cases ended in the period "
        "(all four ending states)"),
    "cases_open": (
        "在办案件数", "Open cases",
        "当前状态为“已受理”或“调解中”的案件数（不限统计期）", "Cases registered or being mediated now (whatever the period)"),
    "cases_overdue": (
        "超期案件数", "Overdue cases",
        "在办且今天已超过期限的案件数", "Open cases past their deadline today"),
    "cases_red_risk_open": (
        "红色风险在办案件数", "Open red-risk cases",
        "在办且风险等级为红色的案件数", "Open cases with risk level red"),
    "escalations": (
        "可能激化案件数", "Escalation flags",
        "受理日期在统计期内且标记“可能激化”的案件数", "Cases received in the period with the escalation flag"),
    "six_no_village_rate": (
        "六无村创建率", "Six-no village rate",
        "统计期截止年度六无村创建报告为“乡镇已认定”的村数 ÷ 本单位的村数（目标 ≥ 80%）",
        "Villages whose six-no report for the year the period ends in is certified by the township ÷ "
        "villages of the unit (target ≥ 80%)"),
    "safe_household_rate": (
        "平安家庭创建率", "Safe-household rate",
        "在册户中认定年度包含统计期截止年度的户数 ÷ 在册户数（目标 ≥ 97%）",
        "Active households certified safe for the year the period ends in ÷ active households "
        "(target ≥ 97%)"),
    "patrols_completed": (
        "完成巡查次数", "Patrols completed",
        "状态为“已完成”且开始时间在统计期内的巡查次数", "Completed patrols that started in the period"),
    "incidents_reported": (
        "上报事件数", "Incidents reported",
        "发生时间在统计期内的事件数", "Incidents that occurred in the period"),
    "incidents_overdue": (
        "超期事件数", "Overdue incidents",
        "未办结（非已解决、已核实、已取消）且今天已超过期限的事件数",
        "Incidents not resolved, verified or cancelled, past their deadline today"),
    "nominations_awarded": (
        "表彰人数", "Nominations awarded",
        "表彰日期在统计期内、状态为“已授予”的推荐数", "Nominations awarded in the period (by the award date)"),
    "mediators_township": (
        "乡镇专职调解员数", "Township mediators",
        "乡镇级在用调解员账号数（目标：每个乡镇 ≥ 2 名）",
        "Active mediator accounts at township level (plan: ≥ 2 per township)"),
    "mediators_villages": (
        "有调解员的村占比", "Villages with a mediator",
        "至少有 1 名在用调解员账号的村数 ÷ 村数（目标：每村 ≥ 1 名）",
        "Villages with at least one active mediator account ÷ villages (plan: ≥ 1 per village)"),
}

BREAKDOWNS: dict[str, tuple[str, str]] = {
    "disputes_by_category": ("纠纷类别（统计期内受理）", "Disputes by category (received in the period)"),
    "disputes_by_source": ("纠纷来源（统计期内受理）", "Disputes by source (received in the period)"),
    "disputes_by_risk": ("风险等级（统计期内受理）", "Disputes by risk (received in the period)"),
    "cases_by_status": ("案件状态（当前）", "Cases by status (now)"),
    "incidents_by_type": ("事件类型（统计期内发生）", "Incidents by type (occurred in the period)"),
    "incidents_by_state": ("事件状态（统计期内发生）", "Incidents by state (occurred in the period)"),
    "nominations_by_state": ("推荐评选阶段（当前）", "Nominations by stage (now)"),
    "patrols_by_grid_week": ("各网格每周巡查次数", "Patrols per grid per ISO week"),
    "six_no_by_village": ("各村六无创建状态", "Six-no state by village"),
    "points_top_households": ("道德银行积分排行（本村）", "Morality-bank points, top households (village)"),
}

LISTS: dict[str, tuple[str, str]] = {
    "overdue_cases": ("超期案件", "Overdue cases"),
    "red_risk_cases": ("红色风险在办案件", "Open red-risk cases"),
    "overdue_incidents": ("超期事件", "Overdue incidents"),
    "notices_in_progress": ("公示中的推荐", "Nominations in public notice"),
}

# Chinese column headers of exports (and the English ones for lang=en)
HEADERS: dict[str, tuple[str, str]] = {
    "key": ("指标", "Key"), "label": ("名称", "Name"), "value": ("数值", "Value"),
    "numerator": ("分子", "Numerator"), "denominator": ("分母", "Denominator"), "target": ("目标", "Target"),
    "formula": ("计算公式", "Formula"), "drill": ("明细链接", "Drill-down"), "count": ("数量", "Count"),
    "state": ("状态", "State"), "broken": ("未达标指标", "Broken indicators"), "id": ("记录编号", "Record id"),
    "case_number": ("案件编号", "Case number"), "title": ("标题", "Title"), "org_code": ("单位代码", "Unit code"),
    "org_name": ("单位", "Unit"), "deadline": ("期限", "Deadline"), "risk_level": ("风险等级", "Risk"),
    "status": ("状态", "Status"), "parties": ("当事人", "Parties"), "received_on": ("受理日期", "Received on"),
    "type": ("类型", "Type"), "severity": ("严重程度", "Severity"), "occurred_at": ("发生时间", "Occurred at"),
    "category": ("类别", "Category"), "nominee_name": ("被推荐人", "Nominee"),
    "notice_ends_on": ("公示截止", "Notice ends"), "link": ("记录链接", "Record link"),
}

TARGETS = {"six_no_village_rate": 0.80, "safe_household_rate": 0.97, "mediators_villages": 1.0}
MEDIATORS_PER_TOWNSHIP = 2


def figure_text(key: str, lang: str) -> tuple[str, str]:
    zl, el, zf, ef = FIGURES[key]
    return (el, ef) if lang == "en" else (zl, zf)


def header(key: str, lang: str) -> str:
    zh, en = HEADERS.get(key, (key, key))
    return en if lang == "en" else zh
