"""平安家庭: certified for a year one by one (a push) or in bulk (through the engine as the caller); the rate."""

from __future__ import annotations

import uuid

from tests.api import helpers as h
from tests.six_no.support import W, YEAR, Z


def test_bulk_certification_and_the_rate_against_97_percent(town):
    hhs = [town.household(head_name=f"户{i}", address=f"东庄 {i} 号") for i in range(4)]
    town.household(head_name="迁出户", address="外地", active=False)
    r = town.c("VA").post("/api/v1/safe-households/certify",
                          json={"year": YEAR, "household_ids": [x["id"] for x in hhs[:3]]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["applied"] * 3
    assert all(YEAR in x["record"]["safe_certified_years"] for x in results)
    # an ordinary change of each household, by the caller, in its history
    hist = town.get("VA", f"/api/v1/households/{hhs[0]['id']}/history")["items"]
    assert hist[-1]["user_id"] == h.user_id(town.engine, "wanfucun.admin")
    assert hist[-1]["changes"]["safe_certified_years"] == [YEAR]
    rate = town.get("VA", "/api/v1/safe-households", org_code=W, year=YEAR)
    assert (rate["households"], rate["certified"], rate["rate"], rate["target"]) == (4, 3, 0.75, 0.97)
    assert rate["meets_target"] is False and rate["villages"][0]["org_code"] == W
    # one by one, as a phone does offline
    town.ok("VA", "household", hhs[3]["id"], {"safe_certified_years": [YEAR]}, base_rev=hhs[3]["rev"])
    rate = town.get("TA", "/api/v1/safe-households", year=YEAR)
    assert (rate["households"], rate["certified"], rate["meets_target"]) == (4, 4, True)
    # un-certify in bulk
    r = town.c("VA").post("/api/v1/safe-households/certify",
                          json={"year": YEAR, "household_ids": [hhs[0]["id"]], "certified": False})
    assert r.json()["results"][0]["record"]["safe_certified_years"] == []
    # who may: another village's admin gets 404 (no existence leak), a viewer and a grid worker are refused
    h.assert_error(town.c("ZA").post("/api/v1/safe-households/certify",
                                     json={"year": YEAR, "household_ids": [hhs[1]["id"]]}), 404, "not_found")
    for who in ("TV", "G"):
        r = town.c(who).post("/api/v1/safe-households/certify", json={"year": YEAR, "household_ids": [hhs[1]["id"]]})
        assert r.status_code == 200 and r.json()["results"][0]["status"] == "rejected"
        assert r.json()["results"][0]["error"]["code"] == "forbidden"
    h.assert_error(town.c("VA").post("/api/v1/safe-households/certify",
                                     json={"year": YEAR + 1, "household_ids": [hhs[1]["id"]]}), 422, "validation_error")
    h.assert_error(town.c("VA").post("/api/v1/safe-households/certify", json={"year": YEAR, "household_ids": []}),
                   422, "validation_error")
    h.assert_error(town.c("VA").post("/api/v1/safe-households/certify",
                                     json={"year": YEAR, "household_ids": [str(uuid.uuid4())]}), 404, "not_found")
    assert town.get("ZA", "/api/v1/safe-households", org_code=W, year=YEAR)["households"] == 0
    assert town.get("ZA", "/api/v1/safe-households", year=YEAR)["villages"] == []
    _ = Z
