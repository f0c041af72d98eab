"""material requirements per subject type, wrong-kind marks, legal representative

Revision ID: 3f972c6a6187
Revises: d696ad866798
Create Date: 2026-11-29 09:36:19.849486

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f972c6a6187'
down_revision = 'd696ad866798'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('material_rules',
    sa.Column('subject_type', sa.String(length=20), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_material_rules_updated_by_users')),
    sa.PrimaryKeyConstraint('subject_type', name=op.f('pk_material_rules'))
    )
    # Plain ADD COLUMN (both databases do it in place): batch mode would copy the million-row
    # orders table on SQLite, and its reflection cannot read the expression index.
    op.add_column('order_materials', sa.Column('wrong_kind', sa.Boolean(), server_default=sa.text('false'),
                                               nullable=False))
    op.add_column('orders', sa.Column('legal_representative', sa.String(length=50), server_default='',
                                      nullable=False))



def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('legal_representative')

    with op.batch_alter_table('order_materials', schema=None) as batch_op:
        batch_op.drop_column('wrong_kind')

    op.drop_table('material_rules')
