"""Answers are gzipped by zlib-ng (core/compress.py), in the same gzip format phones and browsers read: over real
HTTP, a pull answered with ``Content-Encoding: gzip`` is exactly zlib-ng's gzip stream of the plain answer at
level 6, and it inflates with the standard library to the bytes the server sends a client that asks for none."""

from __future__ import annotations

import gzip
import uuid

import httpx
from zlib_ng import zlib_ng

from tests.support.device import mutation, new_case_fields, push


def _raw(client: httpx.Client, path: str, encoding: str) -> httpx.Response:
    # the raw bytes on the wire: httpx would inflate them (stream=True and read the undecoded body)
    with client.stream("GET", path, headers={"Accept-Encoding": encoding}) as r:
        body = b"".join(r.iter_raw())
    r._content = body
    return r


def test_a_pull_is_gzipped_by_zlib_ng(as_user):
    phone = as_user("wanfucun.mediator")
    # a page well past the 1,024-byte minimum
    r = push(phone, [mutation("mediation_case", str(uuid.uuid4()), new_case_fields(title=f"纠纷 {i} 宅基地界址"))
                     for i in range(12)])
    assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {"applied"}
    plain = _raw(phone, "/api/v1/sync/pull?limit=50", "identity")
    zipped = _raw(phone, "/api/v1/sync/pull?limit=50", "gzip")
    assert plain.status_code == zipped.status_code == 200
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) == len(zipped.content) < len(plain.content) / 3
    unzipped = gzip.decompress(zipped.content)  # the standard gzip format
    # the cursor differs per answer (issued at); the changes are the same bytes
    assert unzipped.split(b'"cursor"')[0] == plain.content.split(b'"cursor"')[0]
    c = zlib_ng.compressobj(6, zlib_ng.DEFLATED, 16 + zlib_ng.MAX_WBITS)
    assert zipped.content == c.compress(unzipped) + c.flush()  # zlib-ng's stream (the stdlib's differs)


def test_small_and_unasked_answers_stay_plain(as_user):
    phone = as_user("wanfucun.mediator")
    r = _raw(phone, f"/api/v1/mediation-cases/{uuid.uuid4()}", "gzip")
    assert r.status_code == 404 and "content-encoding" not in r.headers  # under 1,024 bytes
    assert r.json()["code"] == "not_found"
