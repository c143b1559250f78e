"""Permission-matrix cells of the county settings routes (finding 5).

Only the county's own admin reads and changes its settings and code tables; anyone else of the county is 403;
another county answers 404 exactly like one that does not exist. The writes here leave what the other cells see
as it was (a setting set to its value, a label set to itself, an extra code in a table no other cell reads)."""

from __future__ import annotations

import uuid

from tests.api import helpers as h
from tests.api.conftest import ORDER, World


def _row(text: str) -> dict[str, str]:
    vals = text.split()
    assert len(vals) == len(ORDER), text
    return dict(zip(ORDER, vals, strict=True))


_ADMIN_OK = _row("403  403  403  403  403  403  403  403  403  ok")
_ALL_404 = _row(" ".join(["404"] * len(ORDER)))
EXPECT_SETTINGS: dict[str, dict[str, dict[str, str]]] = {
    cell: {"own": _ADMIN_OK, "other": _ALL_404}
    for cell in ("settings_get", "settings_patch", "settings_history", "code_add", "code_change", "code_order")}
ROUTES_SETTINGS: dict[tuple[str, str], list[str]] = {
    ("GET", "/api/v1/counties/{county}/settings"): ["settings_get"],
    ("PATCH", "/api/v1/counties/{county}/settings"): ["settings_patch"],
    ("GET", "/api/v1/counties/{county}/settings/history"): ["settings_history"],
    ("POST", "/api/v1/counties/{county}/code-tables/{table}/codes"): ["code_add"],
    ("PATCH", "/api/v1/counties/{county}/code-tables/{table}/codes/{code}"): ["code_change"],
    ("PUT", "/api/v1/counties/{county}/code-tables/{table}/order"): ["code_order"],
}


def _county(scope: str) -> str:
    return "340321" if scope == "own" else "340322"


def _expect(r, exp: str, ok_status: int = 200) -> dict | None:
    if exp == "ok":
        assert r.status_code == ok_status, r.text
        return r.json()
    h.assert_error(r, int(exp), "forbidden" if exp == "403" else "not_found")
    return None


def cell_settings_get(world: World, short: str, scope: str, exp: str) -> None:
    body = _expect(world.c(short).get(f"/api/v1/counties/{_county(scope)}/settings"), exp)
    if body:
        assert body["county_code"] == "340321"
        assert {s["key"] for s in body["settings"]} >= {"deadline_days", "notice_days"}
        assert "case_status" not in {t["table"] for t in body["code_tables"]}


def cell_settings_patch(world: World, short: str, scope: str, exp: str) -> None:
    r = world.c(short).patch(f"/api/v1/counties/{_county(scope)}/settings", json={"notice_days": 7})
    body = _expect(r, exp)
    if body:
        assert {s["key"]: s["value"] for s in body["settings"]}["notice_days"] == 7


def cell_settings_history(world: World, short: str, scope: str, exp: str) -> None:
    body = _expect(world.c(short).get(f"/api/v1/counties/{_county(scope)}/settings/history"), exp)
    if body:
        assert all(i["display_name"] for i in body["items"])


def cell_code_add(world: World, short: str, scope: str, exp: str) -> None:
    code = "m_" + uuid.uuid4().hex[:12]
    r = world.c(short).post(f"/api/v1/counties/{_county(scope)}/code-tables/household_tag/codes",
                            json={"code": code, "name_zh": "矩阵", "name_en": "Matrix"})
    body = _expect(r, exp, 201)
    if body:
        assert code in {e["code"] for e in body["entries"]}


def cell_code_change(world: World, short: str, scope: str, exp: str) -> None:
    r = world.c(short).patch(f"/api/v1/counties/{_county(scope)}/code-tables/case_source/codes/proactive",
                             json={"name_zh": "主动排查"})
    body = _expect(r, exp)
    if body:
        assert {e["code"]: e["name_zh"] for e in body["entries"]}["proactive"] == "主动排查"


def cell_code_order(world: World, short: str, scope: str, exp: str) -> None:
    c = world.c(short)
    codes = ["party_request", "proactive", "patrol", "police_referral", "court_referral", "government"]
    if exp == "ok":  # the table as it is (other cells may have run): the same order again
        codes = [e["code"] for e in c.get("/api/v1/counties/340321/settings").json()["code_tables"][0]["entries"]]
        table = c.get("/api/v1/counties/340321/settings").json()["code_tables"][0]["table"]
    else:
        table = "case_source"
    r = c.put(f"/api/v1/counties/{_county(scope)}/code-tables/{table}/order", json={"codes": codes})
    body = _expect(r, exp)
    if body:
        assert [e["code"] for e in body["entries"]] == codes
