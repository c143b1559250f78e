"""Issue 12, item 10: a case cannot reach agreed with an empty agreement — the terms, and for a written
agreement the date it was signed (not in the future), are required, on the server as on the phone."""

from __future__ import annotations

from tests.api import helpers as h
from tests.mediation.support import Case, plus_days


def _mediating(c) -> Case:
    case = Case(c)
    case.ok(status="mediating")
    return case


def test_terms_required_to_reach_agreed(as_user):
    c = as_user("wanfucun.mediator")
    case = _mediating(c)
    case.rejected("terms_required", "agreement.terms", status="agreed", agreement={"form": "oral"})
    case.rejected("terms_required", "agreement.terms", status="agreed", agreement={"form": "oral", "terms": "   "})
    assert case.get()["status"] == "mediating"
    rec = case.ok(status="agreed", agreement={"form": "oral", "terms": "双方和解"})
    assert rec["status"] == "agreed"
    # an agreed case cannot lose its terms afterwards
    case.rejected("terms_required", "agreement.terms", agreement={"form": "oral", "terms": ""})


def test_written_agreement_needs_its_signed_date(as_user):
    c = as_user("wanfucun.mediator")
    case = _mediating(c)
    case.rejected("signed_on_required", "agreement.signed_on", status="agreed",
                  agreement={"form": "written", "terms": "甲方修复排水沟"})
    case.rejected("future_date", "agreement.signed_on", status="agreed",
                  agreement={"form": "written", "terms": "甲方修复排水沟",
                             "signed_on": plus_days(h.today().isoformat(), 1)})
    rec = case.ok(status="agreed", agreement={"form": "written", "terms": "甲方修复排水沟", "signed_on": h.today().isoformat()})
    assert rec["agreement"]["signed_on"] == h.today().isoformat()


def test_the_refusal_names_the_field_in_both_languages(as_user):
    c = as_user("wanfucun.mediator")
    case = _mediating(c)
    res = case.update(status="agreed", agreement={"form": "written"})
    assert res["status"] == "rejected"
    fields = {d["field"]: d for d in res["error"]["details"]}
    assert set(fields) == {"agreement.terms", "agreement.signed_on"}
    assert fields["agreement.terms"]["message"]
