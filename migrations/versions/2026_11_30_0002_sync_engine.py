"""sync engine: derived writes name their cause in history; mutation ids keyed per user, with their op;
the cursor-signing key lives in the database

Revision ID: 20261130_0002
Revises: 20261128_0001
Create Date: 2026-11-30 07:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '20261130_0002'
down_revision: str | None = '20261128_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('record_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cause_entity', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('cause_record_id', sa.String(length=36), nullable=True))
    # a mutation id is its user's: another user's id is simply new for them (issue 11, item 8)
    with op.batch_alter_table('sync_mutation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('op', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch_op.drop_constraint('pk_sync_mutation', type_='primary')
        batch_op.create_primary_key('pk_sync_mutation', ['user_id', 'mutation_id'])


    # the cursor-signing key moves into the database (a restore onto a new host keeps phones' cursors valid):
    # an existing install carries its key in (the environment's, else the data folder's file), so no phone resets
    _carry_cursor_key()


def _carry_cursor_key() -> None:
    import secrets

    from cunzhi.core.config import get_settings

    settings = get_settings()
    key = settings.secret_key
    if not key:
        path = settings.data_dir / "secret_key"
        try:
            key = path.read_text().strip()
        except OSError:
            key = ""
    key = key or secrets.token_urlsafe(48)
    conn = op.get_bind()
    exists = conn.execute(sa.text("SELECT 1 FROM server_state WHERE key = 'cursor_key'")).first()
    if not exists:
        conn.execute(sa.text("INSERT INTO server_state (key, value) VALUES ('cursor_key', :v)"), {"v": key[:200]})


def downgrade() -> None:
    op.execute("DELETE FROM server_state WHERE key = 'cursor_key'")
    with op.batch_alter_table('sync_mutation', schema=None) as batch_op:
        batch_op.drop_constraint('pk_sync_mutation', type_='primary')
        batch_op.create_primary_key('pk_sync_mutation', ['mutation_id'])
        batch_op.drop_column('op')
    with op.batch_alter_table('record_history', schema=None) as batch_op:
        batch_op.drop_column('cause_record_id')
        batch_op.drop_column('cause_entity')
