"""onboarding tables: join gates, timers, introductions, gate state

Revision ID: 0007_onboarding
Revises: 0001_core
Create Date: 2026-11-25 13:55:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_onboarding"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onb_gates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_pk", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.String(length=64), nullable=False),
        sa.Column("question", sa.String(length=128), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("created_ts", sa.Float(), nullable=False),
        sa.Column("deadline_ts", sa.Float(), nullable=False),
        sa.Column("decided_ts", sa.Float(), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["group_pk"], ["groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("onb_gates", schema=None) as batch_op:
        batch_op.create_index("ix_onb_gates_member", ["group_pk", "member_id", "status"], unique=False)

    op.create_table(
        "onb_timers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("due_ts", sa.Float(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("done_ts", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["group_pk"], ["groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_pk", "kind", "key", name="uq_onb_timers_key"),
    )
    with op.batch_alter_table("onb_timers", schema=None) as batch_op:
        batch_op.create_index("ix_onb_timers_due", ["done_ts", "due_ts"], unique=False)

    op.create_table(
        "onb_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_pk", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("tags_ts", sa.Float(), nullable=True),
        sa.Column("intro_done_ts", sa.Float(), nullable=True),
        sa.Column("optin", sa.String(length=8), nullable=False),
        sa.Column("released_ts", sa.Float(), nullable=True),
        sa.Column("warm_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_pk"], ["groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_pk", "member_id", name="uq_onb_members"),
    )
    op.create_table(
        "onb_groups",
        sa.Column("group_pk", sa.Integer(), nullable=False),
        sa.Column("gate_mode", sa.String(length=16), nullable=False),
        sa.Column("gate_on_ts", sa.Float(), nullable=True),
        sa.Column("raid_until_ts", sa.Float(), nullable=True),
        sa.Column("raid_alert_ts", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["group_pk"], ["groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("group_pk"),
    )


def downgrade() -> None:
    op.drop_table("onb_groups")
    op.drop_table("onb_members")
    with op.batch_alter_table("onb_timers", schema=None) as batch_op:
        batch_op.drop_index("ix_onb_timers_due")
    op.drop_table("onb_timers")
    with op.batch_alter_table("onb_gates", schema=None) as batch_op:
        batch_op.drop_index("ix_onb_gates_member")
    op.drop_table("onb_gates")
