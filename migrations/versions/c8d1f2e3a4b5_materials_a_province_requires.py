"""materials a province requires of every subject

Revision ID: c8d1f2e3a4b5
Revises: b5e0c3a1d2f4
Create Date: 2026-11-29 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c8d1f2e3a4b5'
down_revision = 'b5e0c3a1d2f4'
branch_labels = None
depends_on = None


def upgrade():
    # plain add_column, not batch mode: on SQLite batch mode would recreate the table (province_rules
    # has no triggers, but the habit keeps orders' triggers safe: see b5e0c3a1d2f4)
    op.add_column('province_rules', sa.Column('required_materials', sa.JSON(), server_default='[]', nullable=False))


def downgrade():
    with op.batch_alter_table('province_rules', schema=None) as batch_op:
        batch_op.drop_column('required_materials')
