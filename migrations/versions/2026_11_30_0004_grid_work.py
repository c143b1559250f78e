"""grid work: grids, household, patrol, incident; their code tables and county settings

Revision ID: 20261130_0004
Revises: 20261130_0003
Create Date: 2026-11-30 07:35:00.250922
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '20261130_0004'
down_revision: str | None = '20261130_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('household',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('org_code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=False),
    sa.Column('rev', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=False),
    sa.Column('field_meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('grid_code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=True),
    sa.Column('head_name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('head_id_number', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('safe_certified_years', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household'))
    )
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_org_code'), ['org_code'], unique=False)
        batch_op.create_index('ix_household_org_head_address', ['org_code', 'head_name', 'address'], unique=False)

    op.create_table('incident',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('org_code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=False),
    sa.Column('rev', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=False),
    sa.Column('field_meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('grid_code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=True),
    sa.Column('patrol_id', sa.String(length=36), nullable=True),
    sa.Column('household_id', sa.String(length=36), nullable=True),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('location', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('occurred_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('assignee_id', sa.String(length=36), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('case_id', sa.String(length=36), nullable=True),
    sa.Column('attachment_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('resolved_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_org_code'), ['org_code'], unique=False)
        batch_op.create_index('ix_incident_org_occurred', ['org_code', 'occurred_at'], unique=False)
        batch_op.create_index('ix_incident_org_state', ['org_code', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_patrol_id'), ['patrol_id'], unique=False)

    op.create_table('patrol',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('org_code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=False),
    sa.Column('rev', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=False),
    sa.Column('field_meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('grid_code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('route', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('places_visited', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('checklist', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('attachment_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol'))
    )
    with op.batch_alter_table('patrol', schema=None) as batch_op:
        batch_op.create_index('ix_patrol_grid_started', ['grid_code', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrol_org_code'), ['org_code'], unique=False)
        batch_op.create_index('ix_patrol_org_started', ['org_code', 'started_at'], unique=False)

    op.create_table('grid',
    sa.Column('code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=False),
    sa.Column('village_code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=False),
    sa.Column('worker_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['code'], ['org_unit.code'], name=op.f('fk_grid_code_org_unit')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_grid'))
    )
    with op.batch_alter_table('grid', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_village_code'), ['village_code'], unique=False)

    _insert_codes_and_settings()


# Code tables (county-configurable; '' = the default every county starts with) and county settings,
# as literal data. incident_type is already in the initial seed (8 general + the six six-no types): the
# rows are repeated here so this revision stands alone; rows already present are left as they are.
CODES = {
    "incident_type": [
        ("dispute", "矛盾纠纷", "Dispute"),
        ("safety_hazard", "安全隐患", "Safety hazard"),
        ("public_order", "治安问题", "Public order"),
        ("environment", "环境卫生", "Sanitation"),
        ("illegal_building", "违法违章", "Illegal building"),
        ("livelihood", "民生诉求", "Livelihood request"),
        ("special_population", "特殊人群", "Special population"),
        ("other", "其他", "Other"),
        ("criminal_case", "刑事案件", "Criminal case"),
        ("mass_incident", "群体性事件", "Mass incident"),
        ("cult", "邪教", "Cult"),
        ("drugs", "涉毒", "Drugs"),
        ("pyramid_selling", "传销", "Pyramid selling"),
        ("major_safety_accident", "重大安全生产事故", "Major work-safety accident"),
    ],
    "patrol_checklist_item": [
        ("fire_safety", "消防安全", "Fire safety"),
        ("water_safety", "防溺水", "Drowning prevention"),
        ("road_safety", "道路交通", "Road safety"),
        ("building_safety", "危房", "Unsafe buildings"),
        ("special_population", "重点人员走访", "Visits to people needing attention"),
        ("environment", "环境卫生", "Sanitation"),
        ("disputes", "矛盾排查", "Looking for disputes"),
    ],
    "household_tag": [
        ("left_behind", "留守", "Left-behind"),
        ("low_income", "低保", "Minimum living allowance"),
        ("military", "军属", "Military family"),
        ("elderly_alone", "独居老人", "Elderly living alone"),
        ("disabled", "残疾人", "Disability"),
        ("poverty_monitored", "防返贫监测", "Poverty-relapse monitoring"),
    ],
}
SETTINGS = {
    # an incident's deadline: the date it occurred + these days, by severity
    "incident_deadline_days_major": "1",
    "incident_deadline_days_serious": "3",
    "incident_deadline_days_general": "7",
    # yellow when an open incident is due within this many days (cases use deadline_warn_days)
    "incident_deadline_warn_days": "1",
}


def _insert_codes_and_settings() -> None:
    bind = op.get_bind()
    code_t = sa.table("code_entry", sa.column("table_name"), sa.column("county_code"), sa.column("code"),
                      sa.column("name_zh"), sa.column("name_en"), sa.column("sort", sa.Integer),
                      sa.column("active", sa.Boolean))
    setting_t = sa.table("county_setting", sa.column("county_code"), sa.column("key"), sa.column("value"))
    have = {(r[0], r[1]) for r in bind.execute(sa.select(code_t.c.table_name, code_t.c.code)
                                                .where(code_t.c.county_code == ""))}
    rows = [{"table_name": t, "county_code": "", "code": c, "name_zh": zh, "name_en": en, "sort": i, "active": True}
            for t, entries in CODES.items() for i, (c, zh, en) in enumerate(entries) if (t, c) not in have]
    if rows:
        op.bulk_insert(code_t, rows)
    have_keys = set(bind.execute(sa.select(setting_t.c.key).where(setting_t.c.county_code == "")).scalars())
    srows = [{"county_code": "", "key": k, "value": v} for k, v in SETTINGS.items() if k not in have_keys]
    if srows:
        op.bulk_insert(setting_t, srows)


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM code_entry WHERE table_name IN ('patrol_checklist_item', 'household_tag')"))
    bind.execute(sa.text("DELETE FROM county_setting WHERE key LIKE 'incident_deadline_%'"))
    with op.batch_alter_table('grid', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_village_code'))

    op.drop_table('grid')
    with op.batch_alter_table('patrol', schema=None) as batch_op:
        batch_op.drop_index('ix_patrol_org_started')
        batch_op.drop_index(batch_op.f('ix_patrol_org_code'))
        batch_op.drop_index('ix_patrol_grid_started')

    op.drop_table('patrol')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_patrol_id'))
        batch_op.drop_index('ix_incident_org_state')
        batch_op.drop_index('ix_incident_org_occurred')
        batch_op.drop_index(batch_op.f('ix_incident_org_code'))
        batch_op.drop_index(batch_op.f('ix_incident_household_id'))
        batch_op.drop_index(batch_op.f('ix_incident_assignee_id'))

    op.drop_table('incident')
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index('ix_household_org_head_address')
        batch_op.drop_index(batch_op.f('ix_household_org_code'))

    op.drop_table('household')
