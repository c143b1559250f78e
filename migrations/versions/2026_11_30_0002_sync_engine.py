"""sync engine: derived writes name their cause in history; the cursor-signing key lives in the database

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


def downgrade() -> None:
    with op.batch_alter_table('record_history', schema=None) as batch_op:
        batch_op.drop_column('cause_record_id')
        batch_op.drop_column('cause_entity')
