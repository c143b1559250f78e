"""Drop eleven indexes that are a leading part of a longer index on the same table.

Each query they served is served as well by the longer index (its first columns are the same, in the same order),
and every new record paid for them: a new case went into 13 indexes, now 11. The rows a push of 500 new cases
writes, replayed alone (bulk writes and commit, no judging), took 69 µs per case on SQLite with them and 61 µs
without the three prefixes on ``mediation_case``, of which two are dropped here (docs/performance.md, seventh
round); the PostgreSQL push's CPU fell 7–10 %.

Kept although it is a prefix: ``ix_mediation_case_org_status`` (org_code, status). Without it SQLite's planner
walks a village's cases for the dashboard's most urgent lists along the narrower ``ix_mediation_case_list`` and
reads every case's row to test its status, instead of testing the status in the index (a village of 5,000 cases:
the village dashboard 23 → 36 ms).

Revision ID: 20261201_0010
Revises: 20261130_0009
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '20261201_0010'
down_revision: str | None = '20261130_0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# index → (table, columns), each followed by the longer index that starts with its columns
PREFIXES: dict[str, tuple[str, list[str]]] = {
    "ix_mediation_case_org_code": ("mediation_case", ["org_code"]),  # ix_mediation_case_list
    "ix_mediation_case_org_received": ("mediation_case", ["org_code", "received_on"]),  # ix_mediation_case_list
    "ix_household_org_code": ("household", ["org_code"]),  # ix_household_org_head_address
    "ix_patrol_org_code": ("patrol", ["org_code"]),  # ix_patrol_org_started
    "ix_incident_org_code": ("incident", ["org_code"]),  # ix_incident_dash_open
    "ix_incident_org_state": ("incident", ["org_code", "state"]),  # ix_incident_dash_open
    "ix_incident_org_occurred": ("incident", ["org_code", "occurred_at"]),  # ix_incident_dash_occurred
    "ix_nomination_org_code": ("nomination", ["org_code"]),  # ix_nomination_dash_awarded
    "ix_nomination_org_state": ("nomination", ["org_code", "state"]),  # ix_nomination_dash_awarded
    "ix_points_entry_org_code": ("points_entry", ["org_code"]),  # ix_points_entry_org_occurred
    "ix_six_no_report_org_code": ("six_no_report", ["org_code"]),  # ix_six_no_report_org_year
}


def upgrade() -> None:
    for name, (table, _cols) in PREFIXES.items():
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, (table, cols) in PREFIXES.items():
        op.create_index(name, table, cols)
