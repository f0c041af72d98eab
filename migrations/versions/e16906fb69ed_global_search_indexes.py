"""global search indexes

Revision ID: e16906fb69ed
Revises: 900087f28213
Create Date: 2026-11-29 07:56:22.302451

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e16906fb69ed'
down_revision = '900087f28213'
branch_labels = None
depends_on = None


def upgrade():
    # Trigram indexes need pg_trgm (shipped with PostgreSQL's contrib; docs/operations.md).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_principal_email_lower', [sa.text('lower(principal_email)')], unique=False)
        batch_op.create_index('ix_orders_principal_emergency_phone', ['principal_emergency_phone'], unique=False)
        batch_op.create_index('ix_orders_principal_id_number', ['principal_id_number'], unique=False)
        batch_op.create_index('ix_orders_principal_mobile2', ['principal_mobile2'], unique=False)
        batch_op.create_index('ix_orders_principal_name', ['principal_name'], unique=False)
        batch_op.create_index('ix_orders_result_filing_number', ['result_filing_number'], unique=False)
        batch_op.create_index('ix_orders_subject_name_trgm', ['subject_name'], unique=False, postgresql_using='gin', postgresql_ops={'subject_name': 'gin_trgm_ops'})
        batch_op.create_index('ix_orders_website_name_trgm', ['website_name'], unique=False, postgresql_using='gin', postgresql_ops={'website_name': 'gin_trgm_ops'})



def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_website_name_trgm', postgresql_using='gin', postgresql_ops={'website_name': 'gin_trgm_ops'})
        batch_op.drop_index('ix_orders_subject_name_trgm', postgresql_using='gin', postgresql_ops={'subject_name': 'gin_trgm_ops'})
        batch_op.drop_index('ix_orders_result_filing_number')
        batch_op.drop_index('ix_orders_principal_name')
        batch_op.drop_index('ix_orders_principal_mobile2')
        batch_op.drop_index('ix_orders_principal_id_number')
        batch_op.drop_index('ix_orders_principal_emergency_phone')
        batch_op.drop_index('ix_orders_principal_email_lower')

