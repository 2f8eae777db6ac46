"""scoring: the recommendations shown and engaged with

Revision ID: 0002_scoring
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_scoring"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_pk", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("shown_ts", sa.Float(), nullable=False),
        sa.Column("engaged_ts", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["group_pk"], ["groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.create_index("ix_recs_group_member", ["group_pk", "member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_index("ix_recs_group_member")
    op.drop_table("recommendations")
