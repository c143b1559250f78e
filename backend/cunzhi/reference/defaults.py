"""Default code tables and county settings, seeded by the first migration (counties may override)."""

CODE_TABLES: dict[str, list[tuple[str, str, str]]] = {
    "case_category": [
        ("marriage_family", "婚姻家庭", "Marriage and family"),
        ("neighbor", "邻里", "Neighbours"),
        ("homestead", "房屋宅基地", "Housing and homestead"),
        ("land_contract", "土地承包", "Land contracting"),
        ("land_acquisition", "征地拆迁", "Land acquisition and demolition"),
        ("labor_wage", "劳动争议/农民工工资", "Labour and migrant wages"),
        ("damages", "损害赔偿", "Damages"),
        ("contract", "合同", "Contracts"),
        ("environment", "环境污染", "Pollution"),
        ("traffic", "道路交通", "Road traffic"),
        ("village_affairs", "村务管理", "Village affairs"),
        ("other", "其他", "Other"),
    ],
    "case_source": [
        ("party_request", "当事人申请", "A party's request"),
        ("proactive", "主动排查", "Found by the mediator"),
        ("patrol", "网格巡查", "Grid patrol"),
        ("police_referral", "公安移交", "Referred by police"),
        ("court_referral", "法院委托", "Entrusted by a court"),
        ("government", "政府指定", "Assigned by government"),
    ],
    "incident_type": [
        ("dispute", "矛盾纠纷", "Dispute"),
        ("safety_hazard", "安全隐患", "Safety hazard"),
        ("public_order", "治安问题", "Public order"),
        ("environment", "环境卫生", "Sanitation"),
        ("illegal_building", "违法违章", "Illegal building"),
        ("livelihood", "民生诉求", "Livelihood request"),
        ("special_population", "特殊人群", "Special population"),
        ("other", "其他", "Other"),
        ("criminal_case", "刑事案件", "Criminal case"),
        ("mass_incident", "群体性事件", "Mass incident"),
        ("cult", "邪教", "Cult"),
        ("drugs", "涉毒", "Drugs"),
        ("pyramid_selling", "传销", "Pyramid selling"),
        ("major_safety_accident", "重大安全生产事故", "Major work-safety accident"),
    ],
    # six-no, nominations, points (issue 8; migration 20261130_0005 inserts these rows as literal data).
    # Indicator codes are records.md's wire names: "no_" + the six-no incident type that breaks it.
    "six_no_indicator": [
        ("no_criminal_case", "无刑事案件", "No criminal case"),
        ("no_mass_incident", "无群体性事件", "No mass incident"),
        ("no_cult", "无邪教人员", "No cult members"),
        ("no_drugs", "无吸毒人员", "No drug users"),
        ("no_pyramid_selling", "无传销", "No pyramid selling"),
        ("no_major_safety_accident", "无重大安全生产事故", "No major work-safety accident"),
    ],
    "nomination_category": [
        ("helping_others", "助人为乐", "Helping others"),
        ("bravery", "见义勇为", "Bravery"),
        ("honesty", "诚实守信", "Honesty"),
        ("dedication", "敬业奉献", "Dedication"),
        ("filial_piety", "孝老爱亲", "Filial piety"),
        ("best_family", "最美家庭", "Best family"),
    ],
    "points_rule": [  # default points in POINTS_RULE_POINTS (the code_entry.points column)
        ("volunteer", "志愿服务", "Volunteering"),
        ("filial", "孝老爱亲", "Filial piety"),
        ("clean_yard", "庭院整洁", "Clean yard"),
        ("littering", "乱扔垃圾", "Littering"),
        ("redeem", "兑换", "Redeemed"),
    ],
}
# points_rule → default points (None: the points are entered by hand; redeem is always negative)
POINTS_RULE_POINTS: dict[str, int | None] = {"volunteer": 5, "filial": 10, "clean_yard": 2, "littering": -5,
                                             "redeem": None}

# Fixed by the protocol (not configurable), listed in /reference with their labels for the devices.
FIXED_TABLES: dict[str, list[tuple[str, str, str]]] = {
    "case_status": [
        ("registered", "已受理", "Registered"),
        ("mediating", "调解中", "Mediating"),
        ("agreed", "达成协议", "Agreed"),
        ("fulfilling", "履行中", "Fulfilling"),
        ("fulfilled", "已履行", "Fulfilled"),
        ("archived", "归档", "Archived"),
        ("declined", "不予受理", "Declined"),
        ("terminated", "终止调解", "Terminated"),
        ("referred", "转交", "Referred"),
    ],
    "risk_level": [
        ("red", "红色（立即上报）", "Red (report now)"),
        ("orange", "橙色（当日上报）", "Orange (same day)"),
        ("yellow", "黄色（属地处置）", "Yellow (handle locally)"),
        ("blue", "蓝色（常规）", "Blue (routine)"),
    ],
    "case_event_kind": [
        ("session", "调解", "Mediation session"),
        ("investigation", "调查", "Investigation"),
        ("follow_up", "回访", "Follow-up visit"),
        ("referral", "转交", "Referral"),
        ("note", "备注", "Note"),
    ],
    # grid work (issue 7): states and severities fixed by records.md
    "patrol_state": [
        ("in_progress", "巡查中", "In progress"),
        ("completed", "已完成", "Completed"),
        ("cancelled", "已取消", "Cancelled"),
    ],
    "incident_state": [
        ("reported", "已上报", "Reported"),
        ("assigned", "已指派", "Assigned"),
        ("handling", "处置中", "Handling"),
        ("resolved", "已办结", "Resolved"),
        ("verified", "已核实", "Verified"),
        ("cancelled", "已撤销", "Cancelled"),
    ],
    "incident_severity": [
        ("major", "重大", "Major"),
        ("serious", "较大", "Serious"),
        ("general", "一般", "General"),
    ],
}

SETTINGS: dict[str, str] = {
    "deadline_days": "30",
    "deadline_warn_days": "5",
    "notice_days": "7",
    # six-no, nominations, points (issue 8): 1 lets mediators and grid workers add points entries
    "points_field_writers": "0",
}
