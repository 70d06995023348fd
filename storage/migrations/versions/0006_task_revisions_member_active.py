"""task revisions, 责任书 fields, member active flag, grade exceptions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 10:40:00

A task is changed (re-dated, re-titled, cancelled, marked 不适用) by a `task_revision` row, never
in place. 责任书 tasks carry their 编号 per unit *and year* (A1 again next year), so the task code
is unique per (unit, year). A member can be deactivated (replaced) and keeps their history; a
final grade outside seed 000 第七条 is recorded as a stated exception.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_task_revision_task_id_task")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_revision")),
    )
    with op.batch_alter_table("task_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_revision_task_id"), ["task_id"], unique=False)

    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column(
                "status",
                sqlmodel.sql.sqltypes.AutoString(length=20),
                nullable=False,
                server_default="active",
            )
        )
        batch_op.add_column(
            sa.Column(
                "reason",
                sqlmodel.sql.sqltypes.AutoString(length=500),
                nullable=False,
                server_default="",
            )
        )
        batch_op.drop_constraint("uq_task_unit_id_code", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_task_unit_id_year_code"), ["unit_id", "year", "code"]
        )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.alter_column("note", server_default=None)
        batch_op.alter_column("status", server_default=None)
        batch_op.alter_column("reason", server_default=None)

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.alter_column("active", server_default=None)

    with op.batch_alter_table("final_grade", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("exception", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("final_grade", schema=None) as batch_op:
        batch_op.alter_column("exception", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("final_grade", schema=None) as batch_op:
        batch_op.drop_column("exception")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("active")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_constraint("uq_task_unit_id_year_code", type_="unique")
        batch_op.create_unique_constraint("uq_task_unit_id_code", ["unit_id", "code"])
        batch_op.drop_column("reason")
        batch_op.drop_column("status")
        batch_op.drop_column("note")
    with op.batch_alter_table("task_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_revision_task_id"))
    op.drop_table("task_revision")
