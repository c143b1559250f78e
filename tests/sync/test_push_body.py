"""The push body is judged once, by ``mutation.read_push``; ``schemas.PushIn`` documents it. Both must give the same
answer to every body: the same 422 details in the same order (as the validation handler words pydantic's errors),
and for a good body the same mutations (ids in their canonical form) as the route made from the model before."""

from __future__ import annotations

import math
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cunzhi.core.errors import _PYDANTIC_CODES, _loc_name
from cunzhi.sync.mutation import Mutation, read_push
from cunzhi.sync.schemas import PushIn

CLIENT = "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def _as_the_model_judges(body: object) -> tuple[list[tuple[str, str]], list[Mutation]]:
    """What the route answered when FastAPI validated PushIn: the details, else the mutations it made."""
    try:
        model = PushIn.model_validate(body)
    except ValidationError as e:
        return [(_loc_name(tuple(err["loc"])), _PYDANTIC_CODES.get(err["type"], "invalid_type")) for err in e.errors()], []
    return [], [Mutation(str(uuid.UUID(m.mutation_id)), m.entity, m.op, str(uuid.UUID(m.record_id)), m.base_rev,
                         m.fields, m.client_time, m.base_epoch, m.resolves_conflict) for m in model.mutations]


def _same(body: object) -> None:
    details, mutations = _as_the_model_judges(body)
    read = read_push(body)
    assert [(e.field, e.code) for e in read.errors] == details, body
    if not details:
        assert read.mutations == mutations and read.client_id == body["client_id"]  # type: ignore[index]
        assert all(type(m.base_rev) is int for m in read.mutations)


def _good(**kw: object) -> dict:
    m = {"mutation_id": "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b", "entity": "mediation_case", "op": "upsert",
         "record_id": "0b6f3c1e-8a55-4d0e-9a53-5c2f0b0e7a11", "base_rev": 2, "fields": {"status": "mediating"},
         "client_time": "2026-11-21T10:02:00+08:00"}
    m.update(kw)
    return {k: v for k, v in m.items() if v is not _DROP}


_DROP = object()
NAMED = {
    "mutation_id": ["123", None, 5, "", "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b\n", "{7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b}",
                    "7E8F9A0B1C2D4E3F8A4B5C6D7E8F9A0B", "7e8f9a0b1c2d-4e3f-8a4b5c6d7e8f9a0b", "00000000000000000000000000000000",
                    "g e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b", _DROP],
    "entity": [None, 5, ["mediation_case"], "x" * 101, "x" * 100, "", "\x00", _DROP],
    "op": ["patch", None, 1, ["upsert"], "UPSERT", "", "delete", _DROP],
    "record_id": ["'; DROP TABLE x;--", None, 1.5, "0B6F3C1E-8A55-4D0E-9A53-5C2F0B0E7A11", _DROP],
    "base_rev": [-1, "0", 1.5, 2**70, True, False, None, 2**53, 2**53 - 1, 1e300, -0.0, 2.0, [], {}, math.inf, -math.inf,
                 math.nan, 10**400, _DROP],
    "fields": [["title"], None, "x", 1, {}, _DROP],
}


def test_every_named_envelope_is_judged_as_the_schema_judges_it():
    for name, values in NAMED.items():
        for v in values:
            _same({"client_id": CLIENT, "mutations": [_good(), _good(**{name: v})]})
    for client_id in (None, 5, "", "x" * 64, "x" * 65, ["a"], _DROP):
        _same({k: v for k, v in {"client_id": client_id, "mutations": [_good()]}.items() if v is not _DROP})
    for mutations in (None, {}, {"a": _good()}, "x", [], [_good(), "x", 1, None, [], True], _DROP):
        _same({k: v for k, v in {"client_id": CLIENT, "mutations": mutations}.items() if v is not _DROP})
    for body in ([_good()], "push", 5, None, True, {}, {"extra": 1}):
        _same(body)
    # several errors at once: in the schema's order (fields as declared, mutations by index)
    _same({"client_id": 3, "extra": 1, "mutations": [_good(op=1, base_rev=-1, entity=None), "x",
                                                      _good(fields=None, record_id="z", surprise=True)]})


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=110),
                         st.uuids().map(str), st.uuids().map(lambda u: u.hex.upper()), st.sampled_from(["upsert", "delete"]))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
KEYS = ["mutation_id", "entity", "op", "record_id", "base_rev", "fields", "client_time", "base_epoch", "resolves_conflict"]


@st.composite
def mutations(draw):
    m = _good()
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=4)):
        if draw(st.booleans()):
            m.pop(key, None)
        else:
            m[key] = draw(json_values)
    return m if draw(st.integers(0, 9)) else draw(json_values)


@settings(max_examples=400, deadline=None)
@given(client_id=st.one_of(st.just(CLIENT), json_values), items=st.one_of(st.lists(mutations(), max_size=4), json_values),
       drop=st.sampled_from([None, "client_id", "mutations"]))
def test_any_body_is_judged_as_the_schema_judges_it(client_id, items, drop):
    body = {"client_id": client_id, "mutations": items}
    body.pop(drop, None)
    _same(body)
