"""security: account state (demo password, changes, deactivation), login throttling, audit detail

Revision ID: 20261130_0003
Revises: 20261130_0002
Create Date: 2026-11-30 08:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '20261130_0003'
down_revision: str | None = '20261130_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEMO_PASSWORD = 'cunzhi-demo'  # the public demo password (literal: the migration must not import the app)


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('demo_password', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('password_changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('deactivated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()),
                                                                       'postgresql'), nullable=True))
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_uploaded_by'), ['uploaded_by'], unique=False)
    op.create_table('login_attempt',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_failed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_failed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('locked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_attempt'))
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempt_last_failed_at'), ['last_failed_at'], unique=False)
    # Accounts that exist already and still accept the demo password are flagged once, here.
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = PasswordHasher()
    conn = op.get_bind()
    users = sa.table('app_user', sa.column('id', sa.String), sa.column('password_hash', sa.String),
                     sa.column('demo_password', sa.Boolean))
    for uid, pw_hash in conn.execute(sa.select(users.c.id, users.c.password_hash)).all():
        try:
            hasher.verify(pw_hash, DEMO_PASSWORD)
        except (VerificationError, InvalidHashError):
            continue
        conn.execute(users.update().where(users.c.id == uid).values(demo_password=True))


def downgrade() -> None:
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempt_last_failed_at'))
    op.drop_table('login_attempt')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_uploaded_by'))
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('detail')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('deactivated_at')
        batch_op.drop_column('password_changed_at')
        batch_op.drop_column('demo_password')
