"""A record's change history (who, when, from which device, which fields), through the output layer."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.core.clock import iso
from cunzhi.core.scope import Scope
from cunzhi.sync.models import RecordHistory
from cunzhi.sync.present import present_value
from cunzhi.sync.registry import EntitySpec

history_t = RecordHistory.__table__


def record_history(conn: Connection, spec: EntitySpec, record_id: str, viewer: Scope) -> list[dict]:
    rows = conn.execute(sa.select(history_t).where(history_t.c.entity == spec.name, history_t.c.record_id == record_id,
                                                   viewer.clause(history_t.c.org_code))
                        .order_by(history_t.c.rev, history_t.c.id)).mappings().all()
    out = []
    for r in rows:
        changes = {k: present_value(spec, k, v, r["org_code"], viewer, record_id)
                   for k, v in (r["changes"] or {}).items()}
        out.append({"rev": r["rev"], "op": r["op"], "at": iso(r["at"]), "user_id": r["user_id"],
                    "client_id": r["client_id"], "mutation_id": r["mutation_id"], "fields": sorted(changes),
                    "changes": changes,
                    "cause": ({"entity": r["cause_entity"], "record_id": r["cause_record_id"],
                               "mutation_id": r["mutation_id"]} if r["cause_entity"] else None)})
    return out
