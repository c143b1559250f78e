"""Writes the server derives (sync-protocol.md): after a mutation of an entity with derivations is accepted,
its derive fns name the writes it causes; they are applied here, in the same transaction, as the system actor —
rev, history naming the cause, feed position, field revisions. A mixin of :class:`cunzhi.sync.push.Push`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cunzhi.sync.mutation import DELETED, Mutation, Reject  # noqa: F401
from cunzhi.sync.registry import SYSTEM_ACTOR, DerivedWrite, EntitySpec, WriteContext, derivations, get_entity


class _FlushingConn:
    """The push's connection, writing the batch's pending inserts before it runs a statement."""

    def __init__(self, conn: Any, flush: Any) -> None:
        self._conn, self._flush = conn, flush

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self._flush()
        return self._conn.execute(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        self._flush()
        return getattr(self._conn, name)


class Derivations:
    if TYPE_CHECKING:  # a mixin: the rest is Push's
        _caused: list[Any]

        def __getattr__(self, name: str) -> Any: ...

    def _derive(self, m: Mutation, depth: int = 0) -> None:
        """Run the derivations of what mutation ``m`` changed; apply their writes as the system actor."""
        while self._caused:
            if depth > 8:
                raise RuntimeError("derived writes do not settle (a derivation cycle)")
            caused, self._caused = self._caused, []
            # a derive fn that queries must see the batch's new rows: its connection writes them first. One
            # that decides from the row alone (most creates) leaves the batch's multi-row INSERT intact.
            conn = _FlushingConn(self.conn, self._insert_pending)
            for spec, op, current, row, changed in caused:
                for fn in derivations(spec.name):
                    ctx = self._ctx(spec, op, current, dict(row), set(changed), mutation_id=m.mutation_id, conn=conn)
                    for w in fn(ctx) or []:
                        self._apply_derived(w, m, (spec.name, row["id"]))
            depth += 1

    def _apply_derived(self, w: DerivedWrite, m: Mutation, cause: tuple[str, str]) -> None:
        spec = get_entity(w.entity)
        if spec is None:
            raise RuntimeError(f"a derived write names an unknown entity {w.entity!r}")
        self._insert_pending()
        current = self._load(spec, w.record_id)
        if current is None and not w.create:
            return
        server = {k: v for k, v in w.fields.items() if k in spec.server_fields}
        sent = {k: v for k, v in w.fields.items() if k not in spec.server_fields}
        parsed, errors = self._parse(spec, sent, creating=current is None, current=current)
        if errors:
            raise RuntimeError(f"derived write of {w.entity} is invalid: {[(e.field, e.code) for e in errors]}")
        parsed.update(server)
        sysm = Mutation(m.mutation_id, spec.name, "upsert", w.record_id, 0, w.fields)
        if current is None:
            org_code = w.fields.get("org_code")
            if not isinstance(org_code, str) or not org_code:
                raise RuntimeError(f"a derived create of {w.entity} needs org_code")
            row = self._defaults(spec)
            row.update(parsed)
            row.update({"id": w.record_id, "org_code": org_code, "rev": 1, "deleted": False,
                        "created_at": self.now, "updated_at": self.now,
                        "created_by": SYSTEM_ACTOR.user_id, "updated_by": SYSTEM_ACTOR.user_id,
                        "field_meta": self._create_meta(spec, parsed, SYSTEM_ACTOR)})
            ctx = self._ctx(spec, "create", None, row, set(parsed) | {"org_code"}, actor=SYSTEM_ACTOR,
                            mutation_id=m.mutation_id)
            self._check_derived(spec, ctx)
            self._pending.setdefault(spec.name, []).append(row)
            self._rows[(spec.name, row["id"])] = row
            self._stored_row(spec, None, row)
            self._insert_pending()
            self._record_change(spec, sysm, row, "derive", {k: row.get(k) for k in parsed} | {"org_code": org_code},
                                SYSTEM_ACTOR, cause)
            if derivations(spec.name):
                self._caused.append((spec, "create", None, row, set(parsed) | {"org_code"}))
            return
        changed = {k for k, v in parsed.items() if v != current.get(k)}
        if not changed:
            return
        new_row = {**current, **parsed}
        ctx = self._ctx(spec, "update", current, new_row, changed, actor=SYSTEM_ACTOR, mutation_id=m.mutation_id)
        self._check_derived(spec, ctx)
        self._write(spec, sysm, current, new_row, changed, "derive", by=SYSTEM_ACTOR, cause=cause)

    def _check_derived(self, spec: EntitySpec, ctx: WriteContext) -> None:
        try:
            self._check(spec, ctx)
        except Reject as r:
            raise RuntimeError(f"derived write of {spec.name} fails its rules: "
                               f"{[(e.field, e.code) for e in r.details]}") from None
