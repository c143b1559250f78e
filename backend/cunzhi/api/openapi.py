"""The OpenAPI document, completed (integrations.md: "OpenAPI is complete and true").

Routes and models describe themselves (summaries, docstrings, ``Field``/``Query`` descriptions, examples);
record types are documented from their registration (``EntitySpec.json_schema``). This module adds what is
the same everywhere, once:

- the errors each operation can give, in the one error shape (``ErrorOut``): those its structure implies
  (credentials, API keys, path ids, bodies, cursors, a busy database) and those its route declares;
- the meaning of the names every list and page shares (``limit``, ``cursor``, ``items``, ``next_cursor``…),
  for a parameter or property that does not say it itself;
- the record schema of every registered type (a type without a read route of its own still has one);
- links from an operation that creates a resource to those that read, change and delete it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}

ERROR_TEXT = {
    "400": "Bad request: an unreadable cursor (code invalid_cursor) — start again without one",
    "401": "Not authenticated: no credential, or an unknown, expired or revoked token or API key "
           "(WWW-Authenticate: Bearer)",
    "403": "Forbidden: the caller's role may not do this, or an API key asked to write (keys are read-only)",
    "404": "Not found: absent, or outside the caller's scope (the same answer, on purpose)",
    "409": "Conflict with the server's state (the code says which, e.g. stale_rev, cursor_epoch)",
    "413": "Payload too large: the body is over the server's limit for this route (read before it is stored)",
    "415": "Unsupported media type: a file that is not one of the accepted types",
    "422": "Validation error: details name each field and what is wrong with it (values are never echoed)",
    "426": "Upgrade required: the client speaks a sync protocol version this server does not",
    "429": "Too many requests (an API key over its rate, or logins of a locked account): retry after "
           "Retry-After seconds",
    "503": "Busy: the database is momentarily locked; retry after Retry-After seconds",
}

# names shared by many operations and models: described once (a route's own description wins)
PARAMETERS = {
    "limit": "how many items one page holds at most",
    "cursor": "the next_cursor of the previous page (opaque); absent: the first page",
    "org_code": "only records of this unit's subtree (a code of GET /reference orgs; outside the caller's scope: "
                "an empty page)",
    "updated_since": "only records changed after this time (ISO 8601 with offset), for incremental loads",
    "include_deleted": "also deleted records (tombstones, deleted: true)",
    "q": "search text (a part of the title or name, case-sensitive)",
    "grid_code": "comma-separated grid codes",
    "household_id": "only those of this household (id)",
    "x-cunzhi-protocol": "the sync protocol version the client speaks (1); absent: 1",
    "overdue": "true: only open ones past their deadline; false: only the others",
    "created_by": "only those created by this user (id)",
}
PROPERTIES = {
    "items": "the items of this page",
    "next_cursor": "the cursor of the next page (pass it as cursor); null on the last page",
    "id": "the id (UUID)",
    "org_code": "the code of the org unit (12 digits for a village, 9 for a township, 6 for a county)",
    "org_name": "the name of the org unit",
    "created_at": "when it was created (ISO 8601, UTC)",
    "updated_at": "when it was changed last (ISO 8601, UTC)",
    "created_by": "the id of the user who created it",
    "user_id": "the id of the user",
    "username": "the login name",
    "display_name": "the name shown in the app",
    "role": "the role: mediator, grid_worker, village_admin, township_admin, township_viewer, county_admin",
    "client_id": "the device's id (a UUID the app makes once per installation)",
    "entity": "the record type (a registered entity, e.g. mediation_case)",
    "record_id": "the record's id",
    "code": "the code (a stable identifier; messages come from it)",
    "message": "the message in the request's language (Accept-Language: zh-CN or en)",
    "field": "the wire name of the field (nested keys joined with dots)",
    "rev": "the record's revision",
    "base_rev": "the record's revision the client's change was made on (0: a new record)",
    "revoked_at": "when it was revoked; null while it is valid",
    "expires_at": "when it expires (ISO 8601, UTC)",
    "status": "the state",
    "state": "the state",
    "name": "the name",
    "active": "false once deactivated",
}


def _responses_for(path: str, method: str, op: dict) -> set[str]:
    """The error answers an operation's shape lets it give (see tests/api/test_openapi_complete.py)."""
    out = {"422"}  # a malformed request: a bad value, a NUL in the query
    if path != "/api/v1/health":
        out.add("503")  # a busy database
    if op.get("security"):
        out.add("401")
        out.add("429" if method == "get" else "403")  # an API key: rate-limited; read-only
    if "{" in path:
        out.add("404")
    if method != "get":
        out.add("413")
    if any(p.get("name") == "cursor" for p in op.get("parameters", [])):
        out.add("400")
    return out


def _parameter_text(p: dict, spec: Any) -> str | None:
    """A parameter's meaning: a filter on a wire field says what the registry says of the field."""
    name = p["name"]
    if name.lower() in PARAMETERS:
        return PARAMETERS[name.lower()]
    if p.get("in") == "path":
        what = name.removesuffix("_id").replace("_", " ")
        return f"the id of the {what}" if name.endswith("_id") else f"the {what}"
    if spec is not None:
        known = (*spec.fields, *spec.server_fields)
        stem, _, end = name.rpartition("_")
        field = next((f for f in (stem, f"{stem}_on", f"{stem}_at") if f in known), None)
        if end in ("from", "to") and field:
            which = "first day (inclusive)" if end == "from" else "last day (inclusive)"
            return f"{which} of {field}, a date in China Standard Time: {spec.describe(field)}"
        if name in known:
            ftype = spec.fields.get(name)
            if ftype is None or ftype.schema.get("type") == "boolean":
                return f"only records whose {name} is this: {spec.describe(name)}"
            return f"comma-separated values (any of them): {spec.describe(name)}"
    return p.get("schema", {}).get("description")


def _describe(schema: Any, props_table: dict[str, str]) -> None:
    if not isinstance(schema, dict):
        return
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict):
            if not prop.get("description") and name in props_table:
                prop["description"] = props_table[name]
            _describe(prop, props_table)
    for key in ("items", "additionalProperties"):
        _describe(schema.get(key), props_table)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key) or []:
            _describe(sub, props_table)


# resources a POST creates, and the operations that take their id: OpenAPI links (docs, and schemathesis'
# stateful checks: use after free, resource availability)
LINKS = {
    ("/api/v1/webhooks", "post", "201"): ("id", {
        "GetWebhook": ("get", "/api/v1/webhooks/{endpoint_id}", "endpoint_id"),
        "PauseWebhook": ("patch", "/api/v1/webhooks/{endpoint_id}", "endpoint_id"),
        "DeleteWebhook": ("delete", "/api/v1/webhooks/{endpoint_id}", "endpoint_id"),
        "WebhookDeliveries": ("get", "/api/v1/webhooks/{endpoint_id}/deliveries", "endpoint_id"),
    }),
    ("/api/v1/api-keys", "post", "201"): ("id", {
        "RevokeKey": ("delete", "/api/v1/api-keys/{key_id}", "key_id"),
    }),
    ("/api/v1/grids", "post", "201"): ("code", {
        "GetGrid": ("get", "/api/v1/grids/{code}", "code"),
        "UpdateGrid": ("patch", "/api/v1/grids/{code}", "code"),
    }),
}


def _operation_id(schema: dict, method: str, path: str) -> str | None:
    return schema["paths"].get(path, {}).get(method, {}).get("operationId")


def install(app: FastAPI) -> None:
    """Wrap ``app.openapi`` so the document is completed once, when first asked for."""
    base = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = base()
        complete(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(schema: dict) -> None:
    from cunzhi.sync.registry import entities, record_title

    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for spec in entities().values():
        components.setdefault(record_title(spec.name), {**spec.json_schema(), "examples": [spec.json_example()]})
    for comp in components.values():
        _describe(comp, PROPERTIES)
    for path, ops in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, op in ops.items():
            spec = entities().get(op.get("x-record-type", ""))
            for p in op.get("parameters", []):
                if not p.get("description"):
                    text = _parameter_text(p, spec)
                    if text:
                        p["description"] = text
            for media in (op.get("requestBody") or {}).get("content", {}).values():
                _describe(media.get("schema"), PROPERTIES)
            for media in (op.get("requestBody") or {}).get("content", {}).values():
                _example(media, schema)
            responses = op.setdefault("responses", {})
            for status, resp in responses.items():
                if status[0] == "2" and "application/json" in resp.get("content", {}):
                    _example(resp["content"]["application/json"], schema)
            if method == "get":
                responses.pop("413", None)  # a GET has no body: the limit never applies
            if not any(p["name"].lower() == "x-cunzhi-protocol" for p in op.get("parameters", [])):
                responses.pop("426", None)  # only sync push and pull speak a protocol version
            for status in _responses_for(path, method, op) | {s for s in responses if s[0] in "45"}:
                if path == "/api/v1/health" and status == "503":
                    continue  # a probe answers 503 with its own body (HealthOut)
                resp = responses.setdefault(status, {})
                if len(resp.get("description") or "") < 25:  # none, or FastAPI's "Not Found"
                    resp["description"] = ERROR_TEXT.get(status, "Error")
                resp["content"] = {"application/json": {"schema": dict(ERROR_REF)}}
            _links(schema, path, method, op)
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)


SAMPLE_STRINGS = {"org_code": "340321108200", "village_code": "340321108200", "code": "340321108200001",
                  "url": "https://bi.example.gov.cn/cunzhi/webhook", "entity": "mediation_case",
                  "username": "wanfu.admin", "display_name": "万福镇管理员", "role": "township_admin", "name": "县综治平台",
                  "message": "已完成", "status": "ok", "level": "village"}


def _value(node: Any, doc: dict, name: str = "", depth: int = 0) -> Any:
    """A value for a schema, made from it: its own example if it has one, else from type, format and name."""
    if not isinstance(node, dict) or depth > 8:
        return None
    if "$ref" in node:
        target = doc["components"]["schemas"].get(node["$ref"].rsplit("/", 1)[-1], {})
        if target.get("examples"):
            return target["examples"][0]
        return _value(target, doc, name, depth + 1)
    if node.get("examples"):
        return node["examples"][0]
    if "example" in node:
        return node["example"]
    if "default" in node and node["default"] is not None:
        return node["default"]
    if node.get("enum"):
        return next((v for v in node["enum"] if v is not None), None)
    for key in ("anyOf", "oneOf"):
        alts = [a for a in node.get(key, []) if a.get("type") != "null"]
        if alts:
            return _value(alts[0], doc, name, depth + 1)
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in node:
        return {k: _value(v, doc, k, depth + 1) for k, v in (node.get("properties") or {}).items()}
    if kind == "array":
        return [_value(node.get("items", {}), doc, name, depth + 1)] if node.get("items") else []
    if kind == "integer":
        return node.get("minimum", 1)
    if kind == "number":
        return 0.97
    if kind == "boolean":
        return False
    if kind == "string":
        fmt = node.get("format")
        if fmt == "date":
            return "2026-11-20"
        if fmt == "date-time" or name.endswith("_at"):
            return "2026-11-20T01:30:00Z"
        if fmt == "uuid" or name == "id" or name.endswith("_id"):
            return "0b6f3c1e-8a55-4d0e-9a53-5c2f0b0e7a11"
        return SAMPLE_STRINGS.get(name, "示例")
    return None


def _example(media: dict, doc: dict) -> None:
    """A body or an answer without an example gets one, made from its schema."""
    if media.get("example") is not None or media.get("examples") or "schema" not in media:
        return
    target = media["schema"]
    if "$ref" in target:
        target = doc["components"]["schemas"].get(target["$ref"].rsplit("/", 1)[-1], {})
    if target.get("examples"):
        return
    value = _value(media["schema"], doc)
    if value is not None:
        media["example"] = value


def _links(schema: dict, path: str, method: str, op: dict) -> None:
    for status, resp in op.get("responses", {}).items():
        found = LINKS.get((path, method, status))
        if not found:
            continue
        field, targets = found
        resp["links"] = {
            name: {"operationId": _operation_id(schema, m, p), "parameters": {param: f"$response.body#/{field}"},
                   "description": f"the {field} of the created resource, as {param} of {m.upper()} {p}"}
            for name, (m, p, param) in targets.items() if _operation_id(schema, m, p)}
