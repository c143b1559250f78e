"""Watches the SQL the server runs on behalf of a caller: every statement that reads, changes or deletes rows of a
registered entity's table must be filtered by the caller's scope (``Scope.clause``: ``org_code >= prefix AND
org_code < prefix || ':'`` with *this caller's* prefix), or be a lookup by key — the record's id, or a parent
record's id through a foreign key — whose result the code then checks with ``Scope.contains`` (the permission
matrix checks those outcomes). Anything else (a list filtered by some other column, or by nothing) is a query
that forgot the scope, and is reported with the statement.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

_TABLES_IN = re.compile(r'\b(?:FROM|JOIN|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)


@dataclass
class Violation:
    caller: str
    table: str
    statement: str

    def __str__(self) -> str:
        where = self.statement.upper().rfind(" FROM ")
        return f"{self.caller}: unscoped query on {self.table}: …{self.statement[max(where, 0):][:600]}"


@dataclass
class ScopeAudit:
    """``caller`` is set by the test before each request: (name, org prefix) of who is asking."""

    key_columns: dict[str, set[str]]  # entity table → columns a key lookup may use (id, FKs to entity tables)
    caller: tuple[str, str] | None = None
    checked: int = 0
    violations: list[Violation] = field(default_factory=list)

    def __call__(self, conn, cursor, statement: str, parameters, context, executemany) -> None:
        if self.caller is None:
            return
        head = statement.lstrip().split(None, 1)[0].upper()
        if head not in ("SELECT", "UPDATE", "DELETE", "WITH"):
            return  # INSERTs are guarded by Scope.contains before the write
        tables = {t.lower() for t in _TABLES_IN.findall(statement)} & set(self.key_columns)
        self._params = parameters
        for table in tables:
            self.checked += 1
            if not (self._scoped(table, statement, parameters) or self._by_key(table, statement)):
                self.violations.append(Violation(self.caller[0], table, " ".join(statement.split())))

    def _scoped(self, table: str, statement: str, parameters) -> bool:
        if not re.search(rf'\b"?{table}"?\."?org_code"?\s*>=', statement):
            return False
        values = list(parameters.values()) if isinstance(parameters, dict) else list(parameters or ())
        prefix = self.caller[1]
        # the caller's subtree, or a unit inside it (the dashboard of one village, for a township's officer)
        return any(isinstance(v, str) and v.startswith(prefix) and v + ":" in values for v in values)

    def _by_key(self, table: str, statement: str) -> bool:
        where = re.search(r"\bWHERE\b", statement, re.IGNORECASE)
        if where is None:
            return False
        at = where.start()
        cols = "|".join(sorted(self.key_columns[table]))
        if re.search(rf'\b"?{table}"?\."?({cols})"?\s*(=|IN\b)', statement[at:], re.IGNORECASE) is not None:
            return True
        # joined by a key to a table the same statement scopes (a household's points entries)
        join = re.search(rf'\bJOIN\s+"?{table}"?\s+ON\s+"?{table}"?\."?(\w+)"?\s*=\s*"?(\w+)"?\."?id"?\b',
                         statement, re.IGNORECASE)
        return join is not None and join.group(2).lower() != table and join.group(2).lower() in self.key_columns \
            and self._scoped(join.group(2).lower(), statement, self._params)


def key_columns() -> dict[str, set[str]]:
    from cunzhi.sync.registry import entities, load_entities

    load_entities()
    tables = {spec.table.name: spec.table for spec in entities().values()}
    out: dict[str, set[str]] = {}
    for name, table in tables.items():
        keys = {"id"}
        for col in table.columns:
            keys |= {col.name for fk in col.foreign_keys if fk.column.table.name in tables}
        out[name] = keys
    return out


@contextmanager
def auditing() -> Iterator[ScopeAudit]:
    audit = ScopeAudit(key_columns())
    event.listen(Engine, "before_cursor_execute", audit)
    try:
        yield audit
    finally:
        event.remove(Engine, "before_cursor_execute", audit)


def unscoped_route(router_prefix: str = "/api/v1"):
    """A deliberately wrong route for the test of the test: cases not deleted, filtered by nothing else — no scope."""
    from fastapi import APIRouter
    from fastapi.responses import JSONResponse

    from cunzhi.api.deps import CurrentScope
    from cunzhi.core.db import read_tx
    from cunzhi.mediation.models import MediationCase

    case_t = MediationCase.__table__
    router = APIRouter(prefix=router_prefix)

    @router.get("/leaky-open-cases")
    def leaky(scope: CurrentScope) -> JSONResponse:
        with read_tx() as conn:
            ids = [r.id for r in conn.execute(sa.select(case_t.c.id).where(case_t.c.deleted.is_(False)))]
        return JSONResponse({"ids": ids})

    return router
