"""initial schema

Revision ID: 20261128_0001
Revises: 
Create Date: 2026-11-28 19:12:29.578582
"""
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '20261128_0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('attachment',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('uploaded_by', sa.String(length=36), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_record_id'), ['record_id'], unique=False)

    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('record_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_user_id'), ['user_id'], unique=False)

    op.create_table('code_entry',
    sa.Column('table_name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('county_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name_zh', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('table_name', 'county_code', 'code', name=op.f('pk_code_entry'))
    )
    op.create_table('counter',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_counter'))
    )
    op.create_table('county_setting',
    sa.Column('county_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'key', name=op.f('pk_county_setting'))
    )
    op.create_table('mediation_case',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('org_code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=False),
    sa.Column('rev', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=False),
    sa.Column('field_meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('case_number', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('parties', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('people_involved', sa.Integer(), nullable=True),
    sa.Column('amount_in_dispute', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('mediator_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('risk_level', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('escalation_flag', sa.Boolean(), nullable=False),
    sa.Column('escalation_note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('deadline_extensions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('agreement', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('outcome_note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('incident_id', sa.String(length=36), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('ended_as', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediation_case')),
    sa.UniqueConstraint('case_number', name=op.f('uq_mediation_case_case_number'))
    )
    with op.batch_alter_table('mediation_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediation_case_org_code'), ['org_code'], unique=False)
        batch_op.create_index('ix_mediation_case_org_received', ['org_code', 'received_on'], unique=False)
        batch_op.create_index('ix_mediation_case_org_status', ['org_code', 'status'], unique=False)

    op.create_table('org_unit',
    sa.Column('code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('parent_code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_org_unit'))
    )
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_unit_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_unit_parent_code'), ['parent_code'], unique=False)

    op.create_table('record_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('org_code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=False),
    sa.Column('rev', sa.Integer(), nullable=False),
    sa.Column('op', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('client_id', sa.String(length=36), nullable=False),
    sa.Column('mutation_id', sa.String(length=36), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_history'))
    )
    with op.batch_alter_table('record_history', schema=None) as batch_op:
        batch_op.create_index('ix_record_history_record', ['entity', 'record_id', 'rev'], unique=False)

    op.create_table('server_state',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_server_state'))
    )
    op.create_table('sync_conflict',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('org_code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=False),
    sa.Column('client_id', sa.String(length=36), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=False),
    sa.Column('mutation_id', sa.String(length=36), nullable=False),
    sa.Column('base_rev', sa.Integer(), nullable=False),
    sa.Column('fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('resolved_by', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_conflict'))
    )
    with op.batch_alter_table('sync_conflict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_conflict_org_code'), ['org_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_conflict_record_id'), ['record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_conflict_status'), ['status'], unique=False)

    op.create_table('sync_feed',
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('org_code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('entity', 'record_id', name=op.f('pk_sync_feed')),
    sa.UniqueConstraint('seq', name=op.f('uq_sync_feed_seq'))
    )
    with op.batch_alter_table('sync_feed', schema=None) as batch_op:
        batch_op.create_index('ix_sync_feed_org_code_seq', ['org_code', 'seq'], unique=False)

    op.create_table('sync_mutation',
    sa.Column('mutation_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('client_id', sa.String(length=36), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('mutation_id', name=op.f('pk_sync_mutation'))
    )
    with op.batch_alter_table('sync_mutation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_mutation_created_at'), ['created_at'], unique=False)

    op.create_table('app_user',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('org_code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_code'], ['org_unit.code'], name=op.f('fk_app_user_org_code_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_user_org_code'), ['org_code'], unique=False)

    op.create_table('case_event',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('org_code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=False),
    sa.Column('rev', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=False),
    sa.Column('field_meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('occurred_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('participants', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('content', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('fulfilled', sa.Boolean(), nullable=True),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('escalation_signs', sa.Boolean(), nullable=True),
    sa.Column('attachment_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['mediation_case.id'], name=op.f('fk_case_event_case_id_mediation_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_event'))
    )
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_event_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_event_org_code'), ['org_code'], unique=False)

    op.create_table('auth_session',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('client_id', sa.String(length=36), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('org_code', sa.String(length=24).with_variant(sa.VARCHAR(length=24, collation='C'), 'postgresql'), nullable=False),
    sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_by', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_auth_session_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_session_token_hash'))
    )
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_session_org_code'), ['org_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_auth_session_user_id'), ['user_id'], unique=False)

    _seed()


# Literal data, as this release shipped it: a migration never reads app code, so what a fresh install seeds
# cannot drift from what an upgraded one holds (later migrations add and rename their own rows;
# tests/ops/test_upgrades.py checks that head holds reference/defaults.py's defaults).
CODE_TABLES = {
    'case_category': [
        ('marriage_family', '婚姻家庭', 'Marriage and family'),
        ('neighbor', '邻里', 'Neighbours'),
        ('homestead', '房屋宅基地', 'Housing and homestead'),
        ('land_contract', '土地承包', 'Land contracting'),
        ('land_acquisition', '征地拆迁', 'Land acquisition and demolition'),
        ('labor_wage', '劳动争议/农民工工资', 'Labour and migrant wages'),
        ('damages', '损害赔偿', 'Damages'),
        ('contract', '合同', 'Contracts'),
        ('environment', '环境污染', 'Pollution'),
        ('traffic', '道路交通', 'Road traffic'),
        ('village_affairs', '村务管理', 'Village affairs'),
        ('other', '其他', 'Other'),
    ],
    'case_source': [
        ('party_request', '当事人申请', "A party's request"),
        ('proactive', '主动排查', 'Found by the mediator'),
        ('patrol', '网格巡查', 'Grid patrol'),
        ('police_referral', '公安移交', 'Referred by police'),
        ('court_referral', '法院委托', 'Entrusted by a court'),
        ('government', '政府指定', 'Assigned by government'),
    ],
    'incident_type': [
        ('dispute', '矛盾纠纷', 'Dispute'),
        ('safety_hazard', '安全隐患', 'Safety hazard'),
        ('public_order', '治安问题', 'Public order'),
        ('environment', '环境卫生', 'Sanitation'),
        ('illegal_building', '违法违章', 'Illegal building'),
        ('livelihood', '民生诉求', 'Livelihood request'),
        ('special_population', '特殊人群', 'Special population'),
        ('other', '其他', 'Other'),
        ('criminal_case', '刑事案件', 'Criminal case'),
        ('mass_incident', '群体性事件', 'Mass incident'),
        ('cult', '邪教', 'Cult'),
        ('drugs', '涉毒', 'Drugs'),
        ('pyramid_selling', '传销', 'Pyramid selling'),
        ('major_safety_accident', '重大安全生产事故', 'Major work-safety accident'),
    ],
    'six_no_indicator': [  # renamed to records.md's wire names (no_criminal_case …) by 20261130_0005
        ('criminal_case', '无刑事案件', 'No criminal case'),
        ('mass_incident', '无群体性事件', 'No mass incident'),
        ('cult', '无邪教人员', 'No cult members'),
        ('drugs', '无吸毒人员', 'No drug users'),
        ('pyramid_selling', '无传销', 'No pyramid selling'),
        ('major_safety_accident', '无重大安全生产事故', 'No major work-safety accident'),
    ],
}
SETTINGS = {'deadline_days': '30', 'deadline_warn_days': '5', 'notice_days': '7'}


def _seed() -> None:
    """The default code tables and settings (county_code '': counties override them), and the server epoch."""
    code = sa.table('code_entry', sa.column('table_name'), sa.column('county_code'), sa.column('code'),
                    sa.column('name_zh'), sa.column('name_en'), sa.column('sort', sa.Integer),
                    sa.column('active', sa.Boolean))
    setting = sa.table('county_setting', sa.column('county_code'), sa.column('key'), sa.column('value'))
    state = sa.table('server_state', sa.column('key'), sa.column('value'))
    op.bulk_insert(code, [{'table_name': t, 'county_code': '', 'code': c, 'name_zh': zh, 'name_en': en, 'sort': i,
                           'active': True}
                          for t, entries in CODE_TABLES.items() for i, (c, zh, en) in enumerate(entries)])
    op.bulk_insert(setting, [{'county_code': '', 'key': k, 'value': v} for k, v in SETTINGS.items()])
    started = datetime.now(timezone(timedelta(hours=8))).isoformat(timespec='milliseconds')  # as clock.iso writes it
    op.bulk_insert(state, [{'key': 'epoch', 'value': str(uuid.uuid4())}, {'key': 'epoch_started_at', 'value': started}])


def downgrade() -> None:
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_auth_session_org_code'))

    op.drop_table('auth_session')
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_event_org_code'))
        batch_op.drop_index(batch_op.f('ix_case_event_case_id'))

    op.drop_table('case_event')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_user_org_code'))

    op.drop_table('app_user')
    with op.batch_alter_table('sync_mutation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_mutation_created_at'))

    op.drop_table('sync_mutation')
    with op.batch_alter_table('sync_feed', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_feed_org_code_seq')

    op.drop_table('sync_feed')
    with op.batch_alter_table('sync_conflict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_conflict_status'))
        batch_op.drop_index(batch_op.f('ix_sync_conflict_record_id'))
        batch_op.drop_index(batch_op.f('ix_sync_conflict_org_code'))

    op.drop_table('sync_conflict')
    op.drop_table('server_state')
    with op.batch_alter_table('record_history', schema=None) as batch_op:
        batch_op.drop_index('ix_record_history_record')

    op.drop_table('record_history')
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_unit_parent_code'))
        batch_op.drop_index(batch_op.f('ix_org_unit_level'))

    op.drop_table('org_unit')
    with op.batch_alter_table('mediation_case', schema=None) as batch_op:
        batch_op.drop_index('ix_mediation_case_org_status')
        batch_op.drop_index('ix_mediation_case_org_received')
        batch_op.drop_index(batch_op.f('ix_mediation_case_org_code'))

    op.drop_table('mediation_case')
    op.drop_table('county_setting')
    op.drop_table('counter')
    op.drop_table('code_entry')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_user_id'))

    op.drop_table('audit_entry')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_record_id'))
        batch_op.drop_index(batch_op.f('ix_attachment_created_at'))

    op.drop_table('attachment')
