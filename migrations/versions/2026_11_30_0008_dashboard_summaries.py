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
    # backfill: the set-based recount the running server offered when this migration was written (cunzhi db
    # rebuild-summaries), frozen here: a migration must not change with the app's code
    for stmt in BACKFILL[op.get_bind().dialect.name]:
        op.execute(stmt)


def downgrade() -> None:
    for name in ('ix_mediation_case_dash_due_open', 'ix_mediation_case_dash_red_open', 'ix_incident_dash_due_open'):
        op.execute(f"DROP INDEX {name}")
    for name in ('dash_household', 'dash_incident_due', 'dash_incident', 'dash_patrol', 'dash_case_now',
                 'dash_case_period'):
        op.drop_table(name)


# the recount as cunzhi.dashboard.summary.rebuild_statements() wrote it on 2026-11-30, per dialect
BACKFILL: dict[str, list[str]] = {
    'sqlite': [
        'DELETE FROM dash_case_period',
        'DELETE FROM dash_case_now',
        'DELETE FROM dash_patrol',
        'DELETE FROM dash_incident',
        'DELETE FROM dash_incident_due',
        'DELETE FROM dash_household',
        "INSERT INTO dash_case_period (unit, grain, bucket, dim, key, n) SELECT unit, 'd', bucket, dim, key, count(*) FROM (SELECT substr(org_code, 1, 9) AS unit, received_on AS bucket, 'category' AS dim, category AS key FROM mediation_case WHERE deleted = 0 UNION ALL SELECT substr(org_code, 1, 9), received_on, 'source', source FROM mediation_case WHERE deleted = 0 UNION ALL SELECT substr(org_code, 1, 9), received_on, 'risk', risk_level FROM mediation_case WHERE deleted = 0 UNION ALL SELECT substr(org_code, 1, 9), received_on, 'escalation', '1' FROM mediation_case WHERE deleted = 0 AND escalation_flag = 1 UNION ALL SELECT substr(org_code, 1, 9), ended_on, 'ended', ended_as FROM mediation_case WHERE deleted = 0 AND ended_on IS NOT NULL AND ended_as IS NOT NULL UNION ALL SELECT substr(org_code, 1, 9), ended_on, 'on_time', ended_as FROM mediation_case WHERE deleted = 0 AND ended_on IS NOT NULL AND ended_as IS NOT NULL AND ended_on <= deadline UNION ALL SELECT substr(org_code, 1, 9), date(COALESCE(json_extract(agreement, '$.perform_by'), json_extract(agreement, '$.signed_on'))), 'due', CASE WHEN status IN ('fulfilled', 'archived') THEN 'done' ELSE 'open' END FROM mediation_case WHERE deleted = 0 AND ended_as = 'agreed' AND date(COALESCE(json_extract(agreement, '$.perform_by'), json_extract(agreement, '$.signed_on'))) IS NOT NULL) AS facts GROUP BY unit, bucket, dim, key",
        "INSERT INTO dash_case_period (unit, grain, bucket, dim, key, n) SELECT unit, 'm', date(bucket, 'start of month'), dim, key, sum(n) FROM dash_case_period WHERE grain = 'd' GROUP BY unit, date(bucket, 'start of month'), dim, key",
        "INSERT INTO dash_case_now (unit, grain, status, bucket, red, n) SELECT unit, 'd', status, bucket, red, count(*) FROM (SELECT substr(org_code, 1, 9) AS unit, status, CASE WHEN status IN ('registered', 'mediating') AND risk_level = 'red' THEN 1 ELSE 0 END AS red, CASE WHEN status IN ('registered', 'mediating') THEN deadline ELSE '1970-01-01' END AS bucket FROM mediation_case WHERE deleted = 0) AS c GROUP BY unit, status, red, bucket",
        "INSERT INTO dash_case_now (unit, grain, status, bucket, red, n) SELECT unit, 'm', status, date(bucket, 'start of month'), red, sum(n) FROM dash_case_now WHERE grain = 'd' GROUP BY unit, status, date(bucket, 'start of month'), red",
        "INSERT INTO dash_patrol (unit, grain, bucket, grid, week, n) SELECT unit, 'd', bucket, grid, date(bucket, 'weekday 0', '-6 days'), count(*) FROM (SELECT substr(org_code, 1, 9) AS unit, COALESCE(grid_code, '') AS grid, date(started_at, '+8 hours') AS bucket FROM patrol WHERE deleted = 0 AND state = 'completed') AS p GROUP BY unit, grid, bucket",
        "INSERT INTO dash_patrol (unit, grain, bucket, grid, week, n) SELECT unit, 'w', week, grid, week, sum(n) FROM dash_patrol WHERE grain = 'd' GROUP BY unit, grid, week",
        "INSERT INTO dash_patrol (unit, grain, bucket, grid, week, n) SELECT unit, 'D', bucket, '', week, sum(n) FROM dash_patrol WHERE grain = 'd' GROUP BY unit, bucket, week",
        "INSERT INTO dash_patrol (unit, grain, bucket, grid, week, n) SELECT unit, 'W', week, '', week, sum(n) FROM dash_patrol WHERE grain = 'w' GROUP BY unit, week",
        "INSERT INTO dash_incident (unit, grain, bucket, type, state, n) SELECT unit, 'd', bucket, type, state, count(*) FROM (SELECT substr(org_code, 1, 9) AS unit, date(occurred_at, '+8 hours') AS bucket, type, state FROM incident WHERE deleted = 0) AS i GROUP BY unit, bucket, type, state",
        "INSERT INTO dash_incident (unit, grain, bucket, type, state, n) SELECT unit, 'm', date(bucket, 'start of month'), type, state, sum(n) FROM dash_incident WHERE grain = 'd' GROUP BY unit, date(bucket, 'start of month'), type, state",
        "INSERT INTO dash_incident_due (unit, grain, state, bucket, n) SELECT unit, 'd', state, bucket, count(*) FROM (SELECT substr(org_code, 1, 9) AS unit, state, CASE WHEN state IN ('reported', 'assigned', 'handling') THEN deadline ELSE '1970-01-01' END AS bucket FROM incident WHERE deleted = 0) AS i GROUP BY unit, state, bucket",
        "INSERT INTO dash_incident_due (unit, grain, state, bucket, n) SELECT unit, 'm', state, date(bucket, 'start of month'), sum(n) FROM dash_incident_due WHERE grain = 'd' GROUP BY unit, state, date(bucket, 'start of month')",
        "INSERT INTO dash_household (unit, key, n) SELECT substr(org_code, 1, 9), 'active', count(*) FROM household WHERE deleted = 0 AND active = 1 GROUP BY substr(org_code, 1, 9)",
        "INSERT INTO dash_household (unit, key, n) SELECT unit, key, count(*) FROM (SELECT DISTINCT substr(h.org_code, 1, 9) AS unit, h.id, 'safe:' || CAST(y.value AS TEXT) AS key FROM household AS h, json_each(h.safe_certified_years) AS y WHERE h.deleted = 0 AND h.active = 1 AND y.type = 'integer') AS y GROUP BY unit, key",
    ],
    'postgresql': [
        'SET LOCAL statement_timeout = 0',
        'LOCK TABLE mediation_case, patrol IN SHARE MODE',
        'DELETE FROM dash_case_period',
        'DELETE FROM dash_case_now',
        'DELETE FROM dash_patrol',
        'DELETE FROM dash_incident',
        'DELETE FROM dash_incident_due',
        'DELETE FROM dash_household',
        "INSERT INTO dash_case_period (unit, grain, bucket, dim, key, n) SELECT unit, 'd', bucket, dim, key, count(*) FROM (SELECT substr(org_code, 1, 9) AS unit, received_on AS bucket, 'category' AS dim, category AS key FROM mediation_case WHERE deleted = false UNION ALL SELECT substr(org_code, 1, 9), received_on, 'source', source FROM mediation_case WHERE deleted = false UNION ALL SELECT substr(org_code, 1, 9), received_on, 'risk', risk_level FROM mediation_case WHERE deleted = false UNION ALL SELECT substr(org_code, 1, 9), received_on, 'escalation', '1' FROM mediation_case WHERE deleted = false AND escalation_flag = true UNION ALL SELECT substr(org_code, 1, 9), ended_on, 'ended', ended_as FROM mediation_case WHERE deleted = false AND ended_on IS NOT NULL AND ended_as IS NOT NULL UNION ALL SELECT substr(org_code, 1, 9), ended_on, 'on_time', ended_as FROM mediation_case WHERE deleted = false AND ended_on IS NOT NULL AND ended_as IS NOT NULL AND ended_on <= deadline UNION ALL SELECT substr(org_code, 1, 9), CAST(COALESCE(agreement ->> 'perform_by', agreement ->> 'signed_on') AS DATE), 'due', CASE WHEN status IN ('fulfilled', 'archived') THEN 'done' ELSE 'open' END FROM mediation_case WHERE deleted = false AND ended_as = 'agreed' AND CAST(COALESCE(agreement ->> 'perform_by', agreement ->> 'signed_on') AS DATE) IS NOT NULL) AS facts GROUP BY unit, bucket, dim, key",
        "INSERT INTO dash_case_period (unit, grain, bucket, dim, key, n) SELECT unit, 'm', CAST(date_trunc('month', bucket) AS DATE), dim, key, sum(n) FROM dash_case_period WHERE grain = 'd' GROUP BY unit, CAST(date_trunc('month', bucket) AS DATE), dim, key",
        "INSERT INTO dash_case_now (unit, grain, status, bucket, red, n) SELECT unit, 'd', status, bucket, red, count(*) FROM (SELECT substr(org_code, 1, 9) AS unit, status, CASE WHEN status IN ('registered', 'mediating') AND risk_level = 'red' THEN true ELSE false END AS red, CASE WHEN status IN ('registered', 'mediating') THEN deadline ELSE CAST('1970-01-01' AS DATE) END AS bucket FROM mediation_case WHERE deleted = false) AS c GROUP BY unit, status, red, bucket",
        "INSERT INTO dash_case_now (unit, grain, status, bucket, red, n) SELECT unit, 'm', status, CAST(date_trunc('month', bucket) AS DATE), red, sum(n) FROM dash_case_now WHERE grain = 'd' GROUP BY unit, status, CAST(date_trunc('month', bucket) AS DATE), red",
        "INSERT INTO dash_patrol (unit, grain, bucket, grid, week, n) SELECT unit, 'd', bucket, grid, CAST(bucket - CAST(EXTRACT(ISODOW FROM bucket) AS INTEGER) + 1 AS DATE), count(*) FROM (SELECT substr(org_code, 1, 9) AS unit, COALESCE(grid_code, '') AS grid, CAST(timezone('Asia/Shanghai', started_at) AS DATE) AS bucket FROM patrol WHERE deleted = false AND state = 'completed') AS p GROUP BY unit, grid, bucket",
        "INSERT INTO dash_patrol (unit, grain, bucket, grid, week, n) SELECT unit, 'w', week, grid, week, sum(n) FROM dash_patrol WHERE grain = 'd' GROUP BY unit, grid, week",
        "INSERT INTO dash_patrol (unit, grain, bucket, grid, week, n) SELECT unit, 'D', bucket, '', week, sum(n) FROM dash_patrol WHERE grain = 'd' GROUP BY unit, bucket, week",
        "INSERT INTO dash_patrol (unit, grain, bucket, grid, week, n) SELECT unit, 'W', week, '', week, sum(n) FROM dash_patrol WHERE grain = 'w' GROUP BY unit, week",
        "INSERT INTO dash_incident (unit, grain, bucket, type, state, n) SELECT unit, 'd', bucket, type, state, count(*) FROM (SELECT substr(org_code, 1, 9) AS unit, CAST(timezone('Asia/Shanghai', occurred_at) AS DATE) AS bucket, type, state FROM incident WHERE deleted = false) AS i GROUP BY unit, bucket, type, state",
        "INSERT INTO dash_incident (unit, grain, bucket, type, state, n) SELECT unit, 'm', CAST(date_trunc('month', bucket) AS DATE), type, state, sum(n) FROM dash_incident WHERE grain = 'd' GROUP BY unit, CAST(date_trunc('month', bucket) AS DATE), type, state",
        "INSERT INTO dash_incident_due (unit, grain, state, bucket, n) SELECT unit, 'd', state, bucket, count(*) FROM (SELECT substr(org_code, 1, 9) AS unit, state, CASE WHEN state IN ('reported', 'assigned', 'handling') THEN deadline ELSE CAST('1970-01-01' AS DATE) END AS bucket FROM incident WHERE deleted = false) AS i GROUP BY unit, state, bucket",
        "INSERT INTO dash_incident_due (unit, grain, state, bucket, n) SELECT unit, 'm', state, CAST(date_trunc('month', bucket) AS DATE), sum(n) FROM dash_incident_due WHERE grain = 'd' GROUP BY unit, state, CAST(date_trunc('month', bucket) AS DATE)",
        "INSERT INTO dash_household (unit, key, n) SELECT substr(org_code, 1, 9), 'active', count(*) FROM household WHERE deleted = false AND active = true GROUP BY substr(org_code, 1, 9)",
        "INSERT INTO dash_household (unit, key, n) SELECT unit, key, count(*) FROM (SELECT DISTINCT substr(h.org_code, 1, 9) AS unit, h.id, 'safe:' || CAST(y.v AS TEXT) AS key FROM household AS h, jsonb_array_elements(CASE WHEN jsonb_typeof(h.safe_certified_years) = 'array' THEN h.safe_certified_years ELSE CAST('[]' AS JSONB) END) AS y(v) WHERE h.deleted = false AND h.active = true AND jsonb_typeof(y.v) = 'number' AND CAST(y.v AS TEXT) ~ '^-?[0-9]+$') AS y GROUP BY unit, key",
    ],
}
