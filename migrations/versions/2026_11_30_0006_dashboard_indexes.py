"""dashboard: covering indexes for the figures' aggregate queries (all led by org_code: a unit's subtree is a
range of the index), and an expression index on an agreement's due date (perform_by, else signed_on)

Revision ID: 20261130_0006
Revises: 20261130_0005
Create Date: 2026-11-30 08:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '20261130_0006'
down_revision: str | None = '20261130_0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name → (table, columns); every column a figure reads, so SQLite and PostgreSQL answer from the index alone
INDEXES = {
    "ix_mediation_case_dash_received": ("mediation_case", "org_code, received_on, deleted, category, source, "
                                                          "risk_level, escalation_flag"),
    "ix_mediation_case_dash_ended": ("mediation_case", "org_code, ended_on, deleted, ended_as, deadline"),
    "ix_mediation_case_dash_status": ("mediation_case", "org_code, status, deleted, deadline, risk_level"),
    "ix_patrol_dash_started": ("patrol", "org_code, state, started_at, deleted, grid_code"),
    "ix_incident_dash_occurred": ("incident", "org_code, occurred_at, deleted, type, state"),
    "ix_incident_dash_open": ("incident", "org_code, state, deadline, deleted"),
    "ix_household_dash_active": ("household", "org_code, active, deleted"),
    "ix_nomination_dash_awarded": ("nomination", "org_code, state, awarded_on, deleted"),
}
DUE = {  # must be the very expression cunzhi.dashboard.service.performance_date emits
    "postgresql": "(COALESCE(agreement ->> 'perform_by', agreement ->> 'signed_on'))",
    "sqlite": "(COALESCE(json_extract(agreement, '$.perform_by'), json_extract(agreement, '$.signed_on')))",
}


def upgrade() -> None:
    for name, (table, cols) in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {table} ({cols})")
    due = DUE[op.get_bind().dialect.name]
    op.execute(f"CREATE INDEX ix_mediation_case_dash_due ON mediation_case (ended_as, org_code, {due}, status, deleted)")


def downgrade() -> None:
    for name in [*INDEXES, "ix_mediation_case_dash_due"]:
        op.execute(f"DROP INDEX {name}")
