"""dashboard: exact summary tables per township (dash_case_period, dash_case_now, dash_patrol, dash_incident,
dash_incident_due, dash_household), backfilled from the record tables; kept exact by the dashboard's row observer from then on; indexes
for the lists of the most urgent open cases and incidents

Revision ID: 20261130_0008
Revises: 20261130_0007
Create Date: 2026-11-30 11:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '20261130_0008'
down_revision: str | None = '20261130_0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORG = sa.String(length=24).with_variant(postgresql.VARCHAR(length=24, collation="C"), 'postgresql')


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # indexes and the backfill of a county may take minutes
        op.execute("SET LOCAL statement_timeout = 0")
    op.create_table('dash_case_period',
    sa.Column('unit', ORG, nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('bucket', sa.Date(), nullable=False),
    sa.Column('dim', sa.String(length=12), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('unit', 'grain', 'bucket', 'dim', 'key', name=op.f('pk_dash_case_period')))
    op.create_table('dash_case_now',
    sa.Column('unit', ORG, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('bucket', sa.Date(), nullable=False),
    sa.Column('red', sa.Boolean(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('unit', 'grain', 'status', 'bucket', 'red', name=op.f('pk_dash_case_now')))
    op.create_table('dash_patrol',
    sa.Column('unit', ORG, nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('bucket', sa.Date(), nullable=False),
    sa.Column('grid', ORG, nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('unit', 'grain', 'bucket', 'grid', name=op.f('pk_dash_patrol')))
    op.create_table('dash_incident',
    sa.Column('unit', ORG, nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('bucket', sa.Date(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('unit', 'grain', 'bucket', 'type', 'state', name=op.f('pk_dash_incident')))
    op.create_table('dash_incident_due',
    sa.Column('unit', ORG, nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('bucket', sa.Date(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('unit', 'grain', 'state', 'bucket', name=op.f('pk_dash_incident_due')))
    op.create_table('dash_household',
    sa.Column('unit', ORG, nullable=False),
    sa.Column('key', sa.String(length=16), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('unit', 'key', name=op.f('pk_dash_household')))
    # the lists (most urgent first): an ordered walk per state along these, stopping after 50 rows
    op.execute("CREATE INDEX ix_mediation_case_dash_due_open ON mediation_case (status, deadline, id, org_code, deleted)")
    op.execute("CREATE INDEX ix_mediation_case_dash_red_open ON mediation_case "
               "(status, risk_level, deadline, id, org_code, deleted)")
    op.execute("CREATE INDEX ix_incident_dash_due_open ON incident (state, deadline, id, org_code, deleted)")
    # backfill: the same set-based recount the running server offers (cunzhi db rebuild-summaries)
    from cunzhi.dashboard.summary import rebuild_statements

    for stmt in rebuild_statements(op.get_bind().dialect.name):
        op.execute(stmt)


def downgrade() -> None:
    for name in ('ix_mediation_case_dash_due_open', 'ix_mediation_case_dash_red_open', 'ix_incident_dash_due_open'):
        op.execute(f"DROP INDEX {name}")
    for name in ('dash_household', 'dash_incident_due', 'dash_incident', 'dash_patrol', 'dash_case_now',
                 'dash_case_period'):
        op.drop_table(name)
