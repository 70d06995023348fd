"""the 自查 checklist: one row per mark or file of a line (seed 000 第十一条), append-only

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 13:30:00.768953

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "selfcheck_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("line", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("mark", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("attachment", sa.JSON(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_selfcheck_entry_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selfcheck_entry")),
        sa.UniqueConstraint("source_key", name=op.f("uq_selfcheck_entry_source_key")),
    )
    with op.batch_alter_table("selfcheck_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_selfcheck_entry_unit_id_year"), ["unit_id", "year"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("selfcheck_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_selfcheck_entry_unit_id_year"))

    op.drop_table("selfcheck_entry")
