"""privacy opt-outs

Revision ID: 0008_privacy
Revises: 0001_core
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_privacy"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_optout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_pk", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["group_pk"], ["groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_pk", "member_id", name="uq_privacy_optout_member"),
    )


def downgrade() -> None:
    op.drop_table("privacy_optout")
