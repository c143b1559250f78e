"""The OpenAPI document is complete (integrations.md, "OpenAPI is complete and true"): walked whole, every
operation under /api/v1 has a summary of its own and a description, every property and parameter a
description, request bodies and success answers an example, every error answer the one error shape, and each
operation declares the errors its structure lets it give; every string a client sends is bounded.

These checks read the document, not the server; tests/api/test_schemathesis.py holds the server to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

ERROR_REF = "#/components/schemas/ErrorOut"
PUBLIC = {"/api/v1/health", "/api/v1/auth/token"}
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def doc() -> dict:
    from cunzhi.main import create_app

    return create_app().openapi()


@pytest.fixture(scope="module")
def default_summaries() -> dict[tuple[str, str], str]:
    """FastAPI's summary when a route names none: its function name in title case ("List Cases")."""
    from fastapi.routing import APIRoute

    from cunzhi.main import create_app

    out = {}
    for route in create_app().routes:
        if isinstance(route, APIRoute):
            for m in route.methods:
                out[(m.lower(), route.path)] = route.name.replace("_", " ").title()
    return out


def operations(doc: dict) -> Iterator[tuple[str, str, dict]]:
    for path, ops in doc["paths"].items():
        if path.startswith("/api/v1"):
            for method, op in ops.items():
                if method in METHODS:
                    yield method, path, op


def resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def walk(schema, where: str) -> Iterator[tuple[str, str, dict]]:
    """Every (place, property name, property schema) inside a schema, nested objects and lists included."""
    if isinstance(schema, dict):
        for name, prop in (schema.get("properties") or {}).items():
            yield where, name, prop
            yield from walk(prop, f"{where}.{name}")
        for key in ("items", "additionalProperties", "not"):
            if isinstance(schema.get(key), dict):
                yield from walk(schema[key], f"{where}[]")
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            for i, sub in enumerate(schema.get(key) or []):
                yield from walk(sub, f"{where}|{i}")
        for name, sub in (schema.get("$defs") or {}).items():
            yield from walk(sub, f"{where}$defs.{name}")


def inline_schemas(doc: dict) -> Iterator[tuple[str, dict]]:
    """Every schema of the document: components, parameters, bodies and answers."""
    yield from doc["components"]["schemas"].items()
    for method, path, op in operations(doc):
        for p in op.get("parameters", []):
            yield f"{method} {path} ?{p['name']}", p.get("schema", {})
        for ctype, media in (op.get("requestBody") or {}).get("content", {}).items():
            yield f"{method} {path} body {ctype}", media.get("schema", {})
        for status, resp in op.get("responses", {}).items():
            for ctype, media in resp.get("content", {}).items():
                yield f"{method} {path} {status} {ctype}", media.get("schema", {})


def test_every_operation_is_summarised_and_described(doc, default_summaries):
    missing = []
    for method, path, op in operations(doc):
        summary = op.get("summary", "")
        if not summary or summary == default_summaries.get((method, path)):
            missing.append(f"{method.upper()} {path}: no summary of its own ({summary!r})")
        if len(op.get("description", "").strip()) < 20:
            missing.append(f"{method.upper()} {path}: no description")
        if not op.get("tags"):
            missing.append(f"{method.upper()} {path}: no tag")
    assert not missing, "\n".join(missing)


def test_every_property_and_parameter_is_described(doc):
    missing = [f"{where}: {name}" for label, schema in inline_schemas(doc)
               for where, name, prop in walk(schema, label) if not prop.get("description")]
    for method, path, op in operations(doc):
        missing += [f"{method.upper()} {path}: parameter {p['name']}" for p in op.get("parameters", [])
                    if not p.get("description")]
    assert not missing, f"{len(missing)} without a description:\n" + "\n".join(missing)


def test_bodies_and_success_answers_carry_examples(doc):
    def has_example(media: dict) -> bool:
        if media.get("example") is not None or media.get("examples"):
            return True
        schema = resolve(doc, media.get("schema") or {})
        return bool(schema.get("examples") or schema.get("example") is not None)

    missing = []
    for method, path, op in operations(doc):
        for ctype, media in (op.get("requestBody") or {}).get("content", {}).items():
            if not has_example(media):
                missing.append(f"{method.upper()} {path}: request body {ctype}")
        for status, resp in op.get("responses", {}).items():
            if status.startswith("2"):
                for ctype, media in resp.get("content", {}).items():
                    if ctype == "application/json" and not has_example(media):
                        missing.append(f"{method.upper()} {path}: {status} answer")
    assert not missing, "\n".join(missing)


def expected_errors(path: str, method: str, op: dict) -> set[str]:
    """The error answers an operation's shape lets it give, whatever its handler does."""
    out = {"422"}  # any request may be malformed (a NUL in the query, a bad value)
    if path != "/api/v1/health":
        out.add("503")  # the database may be busy
    if op.get("security"):
        out |= {"401"}  # no, an expired or a revoked credential
        out.add("429" if method == "get" else "403")  # API keys: rate-limited reads, and read-only
    if "{" in path:
        out.add("404")  # absent, or outside the caller's scope (the same answer)
    if method != "get":
        out.add("413")  # every body is limited, before it is read
    if any(p["name"] == "cursor" for p in op.get("parameters", [])):
        out.add("400")  # an unreadable cursor
    return out


def test_every_operation_declares_its_errors_in_the_one_shape(doc):
    problems = []
    for method, path, op in operations(doc):
        responses = op.get("responses", {})
        for status in sorted(expected_errors(path, method, op) - set(responses)):
            problems.append(f"{method.upper()} {path}: {status} not declared")
        if path in PUBLIC and "401" in responses and path != "/api/v1/auth/token":
            problems.append(f"{method.upper()} {path}: declares 401 but needs no credential")
        if method == "get" and "413" in responses:
            problems.append(f"{method.upper()} {path}: declares 413 but a GET has no body")
        for status, resp in responses.items():
            if status[0] not in "45" or path == "/api/v1/health":
                continue
            schema = resp.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref") != ERROR_REF:
                problems.append(f"{method.upper()} {path}: {status} is not the one error shape")
            if len(resp.get("description", "")) < 10:
                problems.append(f"{method.upper()} {path}: {status} without a description")
    assert not problems, "\n".join(problems)


def test_error_shape_is_one_component(doc):
    error = doc["components"]["schemas"]["ErrorOut"]
    assert set(error["required"]) >= {"code", "message", "details"}
    detail = resolve(doc, error["properties"]["details"]["items"])
    assert set(detail["properties"]) == {"field", "code", "message"}


def test_every_string_a_client_sends_is_bounded(doc):
    """Parameters and body properties: a length limit, a pattern, an enum or a format the server checks."""
    def bounded(schema: dict) -> bool:
        if any(k in schema for k in ("maxLength", "pattern", "enum", "const")):
            return True
        if schema.get("format") in ("uuid", "date", "date-time", "binary") or "contentMediaType" in schema:
            return True
        alts = schema.get("anyOf") or schema.get("oneOf")
        if alts:
            return all(bounded(resolve(doc, a)) for a in alts)
        return schema.get("type") != "string"

    loose = []
    for method, path, op in operations(doc):
        for p in op.get("parameters", []):
            if not bounded(p.get("schema", {})):
                loose.append(f"{method.upper()} {path}: parameter {p['name']}")
        for _ctype, media in (op.get("requestBody") or {}).get("content", {}).items():
            body = resolve(doc, media.get("schema", {}))
            for where, name, prop in walk(body, f"{method.upper()} {path} body"):
                if not bounded(resolve(doc, prop)):
                    loose.append(f"{where}.{name}")
    assert not loose, "\n".join(loose)


def test_record_types_are_documented_from_the_registry(doc):
    """Each record type's read API answers its own record schema, generated from the registry: every wire
    field of the type is a property (with the registry's description)."""
    from cunzhi.sync.registry import entities

    schemas = doc["components"]["schemas"]
    for name, spec in entities().items():
        title = "".join(part.title() for part in name.split("_")) + "Record"
        assert title in schemas, title
        props = schemas[title]["properties"]
        assert set(spec.output_fields()) <= set(props), (name, set(spec.output_fields()) - set(props))
        for field_name in spec.fields:
            assert props[field_name]["description"] == spec.describe(field_name), (name, field_name)
