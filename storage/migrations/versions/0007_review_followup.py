"""补正 link between submissions; notices with 签收

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 11:00:00

A liaison's 补正 of a returned submission names the one it corrects (`submission.corrects_id`),
so the office sees the chain. A 通知 can ask for 签收: `notice` keeps what was sent to whom,
`notice_ack` one row per person who acknowledged (unique: a second click is recorded once).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("corrects_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_submission_corrects_id"), ["corrects_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_submission_corrects_id_submission"),
            "submission",
            ["corrects_id"],
            ["id"],
        )
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("ack_required", sa.Boolean(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
    )
    op.create_table(
        "notice_ack",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("userid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notice.id"], name=op.f("fk_notice_ack_notice_id_notice")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_ack")),
        sa.UniqueConstraint("notice_id", "userid", name=op.f("uq_notice_ack_notice_id_userid")),
    )
    with op.batch_alter_table("notice_ack", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_ack_notice_id"), ["notice_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notice_ack", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_ack_notice_id"))
    op.drop_table("notice_ack")
    op.drop_table("notice")
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_submission_corrects_id_submission"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_submission_corrects_id"))
        batch_op.drop_column("corrects_id")
