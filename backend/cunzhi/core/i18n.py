"""Error and field messages in zh-CN (default) and en, chosen by ``Accept-Language``."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # request-level codes
    "not_authenticated": ("未登录或登录凭证无效", "Not authenticated"),
    "session_expired": ("登录已过期，请重新输入密码", "Session expired: please log in again"),
    "session_revoked": ("此设备的登录已被撤销", "This session has been revoked"),
    "invalid_credentials": ("用户名或密码错误", "Wrong username or password"),
    "forbidden": ("无权执行此操作", "You may not do this"),
    "not_found": ("记录不存在或不在您的权限范围内", "Not found, or outside your scope"),
    "validation_error": ("提交的数据有误", "The data sent is not valid"),
    "invalid_json": ("请求体不是有效的 JSON", "The request body is not valid JSON"),
    "invalid_encoding": ("请求体不是有效的 UTF-8 文本", "The request body is not valid UTF-8"),
    "payload_too_large": ("请求体过大", "The request body is too large"),
    "too_many_mutations": ("一次最多提交 500 条变更", "At most 500 mutations per push"),
    "busy": ("服务器繁忙，请稍后重试", "The server is busy: retry shortly"),
    "invalid_cursor": ("同步游标无法识别", "The sync cursor cannot be read"),
    "reset_required": ("需要重新同步：请从头拉取并重新发送本机变更", "Reset required: pull from the beginning and re-send your changes"),
    "conflict_stale": ("记录已被修改，请刷新后重试", "The record changed since: refresh and try again"),
    "conflict_resolved": ("该冲突已经处理", "This conflict is already resolved"),
    "unsupported_protocol": ("应用版本过旧，请更新后再同步", "This app version is too old: update it to sync"),
    "method_not_allowed": ("不支持此请求方法", "Method not allowed"),
    "unsupported_media_type": ("不支持的文件类型", "Unsupported file type"),
    # --- integrations (issue 10)
    "key_revoked": ("此 API 密钥已被撤销", "This API key has been revoked"),
    "key_expired": ("此 API 密钥已过期", "This API key has expired"),
    "rate_limited": ("请求过于频繁，请稍后重试", "Too many requests: retry after Retry-After seconds"),
    "url_not_https": ("回调地址必须使用 https", "The URL must use https"),
    "url_private": ("回调地址不能指向本机或内网地址", "The URL may not point to a loopback or private address"),
    "invalid_url": ("不是有效的网址", "Not a valid URL"),
    "endpoint_disabled": ("该回调地址已停用", "This endpoint is disabled"),
    "internal_error": ("服务器内部错误（已记录）", "Internal server error (logged)"),
    # per-field / per-mutation codes
    "required": ("必填", "Required"),
    "invalid_type": ("类型不正确", "Wrong type"),
    "invalid_choice": ("不是允许的取值", "Not an allowed value"),
    "too_long": ("过长", "Too long"),
    "too_short": ("过短", "Too short"),
    "out_of_range": ("超出允许范围", "Out of range"),
    "invalid_date": ("日期格式应为 YYYY-MM-DD", "Dates are YYYY-MM-DD"),
    "invalid_datetime": ("时间格式应为带时区的 ISO 8601", "Times are ISO 8601 with an offset"),
    "future_date": ("不能晚于今天", "Cannot be in the future"),
    "invalid_id_number": ("身份证号码格式或校验位不正确", "Not a valid ID number (format or check digit)"),
    "invalid_phone": ("电话号码格式不正确", "Not a valid phone number"),
    "invalid_amount": ("金额应为非负数，最多两位小数", "Amounts are non-negative with at most 2 decimals"),
    "invalid_uuid": ("不是有效的 UUID", "Not a valid UUID"),
    "unknown_field": ("未知字段", "Unknown field"),
    "server_owned": ("该字段由服务器维护，不能提交", "This field is kept by the server"),
    "immutable": ("创建后不能修改", "Cannot change after create"),
    "out_of_scope": ("不在您的权限范围内", "Outside your scope"),
    "unknown_org": ("组织机构代码不存在", "Unknown organisation code"),
    "invalid_transition": ("不允许的状态变更", "This state change is not allowed"),
    "invalid_initial_status": ("新案件的状态必须是“已受理”", "A new case starts as registered"),
    "not_deletable": ("只能删除仍处于“已受理”状态的误录案件", "Only a case still registered can be deleted"),
    "append_only": ("此类记录只能新增，不能修改或删除", "These records can only be added, never changed"),
    "unknown_record": ("记录尚不存在（请先同步其创建）", "The record does not exist yet (sync its creation first)"),
    "unknown_entity": ("未知的记录类型", "Unknown record type"),
    "unknown_mediator": ("调解员不存在或不属于该村", "Not a mediator of this village"),
    "deadline_needs_extension": ("期限只能通过记录理由的延期来变更", "The deadline changes only through a recorded extension"),
    "extensions_append_only": ("延期记录只能追加", "Extensions can only be appended"),
    "masked_field_readonly": ("您看不到该字段的完整内容，因此不能修改它", "You see this field masked, so you cannot change it"),
    "agreement_required": ("达成协议时必须填写协议内容", "An agreement is required to reach agreed"),
    "outcome_note_required": ("请说明已告知当事人的其他途径", "Say which other routes the parties were told of"),
    "case_not_found": ("所属案件不存在或不在权限范围内", "The case does not exist or is outside your scope"),
    "org_mismatch": ("必须与所属案件的组织机构一致", "Must be the case's organisation"),
    "conflict_unknown": ("冲突不存在或不属于此记录", "Unknown conflict, or one of another record"),
    "partial_resolution": ("必须为冲突中的每个字段作出选择", "Choose for every field of the conflict"),
    "invalid_choice_value": ("选择应为 client、server 或 {value: …}", "A choice is client, server or {value: …}"),
    # sync engine (issue 6)
    "mutation_id_reused": ("该变更编号已用于另一项变更，请用新的编号重新发送", "This mutation id was used for another change: send it with a new id"),
    "id_not_derived": ("此类记录的编号由其自然键推导，编号不符", "This record's id must be derived from its natural key"),
    "id_taken": ("该编号已被使用", "This id is already taken"),
    "constraint_violation": ("数据库约束不允许此变更", "A database constraint does not allow this change"),
    "parent_not_found": ("所属记录不存在或已删除", "The parent record does not exist or was deleted"),
    "mutation_owned_by_other": ("该变更编号属于其他用户", "This mutation id belongs to another user"),
    "client_id_mismatch": ("client_id 与登录时的不一致", "client_id is not the one this session was opened with"),
    "file_too_large": ("文件超过 10 MB", "The file is over 10 MB"),
    "checksum_mismatch": ("文件校验值不符", "The file does not match its sha256"),
    "attachment_exists": ("该附件编号已用于其他文件", "This attachment id holds another file"),
}


def pick_language(accept_language: str | None) -> str:
    """'en' when the client prefers English, else 'zh' (the working language)."""
    if not accept_language:
        return "zh"
    first = accept_language.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh"


def message(code: str, lang: str) -> str:
    zh, en = MESSAGES.get(code, (code, code))
    return en if lang == "en" else zh
