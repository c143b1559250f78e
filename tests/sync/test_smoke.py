from tests.support.device import mutation, new_case_fields, pull_all, push
import uuid


def test_create_then_pull_on_another_device(as_user):
    a, b = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rid = str(uuid.uuid4())
    r = push(a, [mutation("mediation_case", rid, new_case_fields())])
    assert r.status_code == 200, r.text
    res = r.json()["results"][0]
    assert res["status"] == "applied", res
    assert res["record"]["case_number"].startswith("340321108200-2026-")
    changes, _ = pull_all(b)
    assert [c["record"]["id"] for c in changes] == [rid]
