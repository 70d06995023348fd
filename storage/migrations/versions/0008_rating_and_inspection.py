"""测评 rounds and answers; inspection findings and their events

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 11:00:00

Seed 000 第八条 (districts rate the city departments) and 第九条 (检查考评): both append-only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "rating_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("scale", S(length=10), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("raters", sa.JSON(), nullable=False),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("actor", S(length=64), nullable=False),
        sa.Column("reason", S(length=500), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_round")),
    )
    with op.batch_alter_table("rating_round", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_round_year"), ["year"], unique=False)

    op.create_table(
        "rating_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("rater", S(length=64), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("answer", S(length=10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_key", S(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rating_round.id"], name=op.f("fk_rating_answer_round_id_rating_round")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_rating_answer_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_answer")),
        sa.UniqueConstraint("source_key", name=op.f("uq_rating_answer_source_key")),
    )
    with op.batch_alter_table("rating_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_answer_round_id"), ["round_id"], unique=False)

    op.create_table(
        "rating_close",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("actor", S(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rating_round.id"], name=op.f("fk_rating_close_round_id_rating_round")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_close")),
        sa.UniqueConstraint("round_id", name=op.f("uq_rating_close_round_id")),
    )

    op.create_table(
        "inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("target", S(length=40), nullable=False),
        sa.Column("rule", S(length=40), nullable=True),
        sa.Column("amount", sa.String(length=40), nullable=True),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("found_on", sa.Date(), nullable=False),
        sa.Column("respond_by", sa.Date(), nullable=False),
        sa.Column("actor", S(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_key", S(length=200), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_inspection_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection")),
        sa.UniqueConstraint("source_key", name=op.f("uq_inspection_source_key")),
    )
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_unit_id_year"), ["unit_id", "year"], unique=False
        )

    op.create_table(
        "inspection_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("kind", S(length=20), nullable=False),
        sa.Column("actor", S(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachment", sa.JSON(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_key", S(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["admin_entry.id"], name=op.f("fk_inspection_event_entry_id_admin_entry")
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspection.id"],
            name=op.f("fk_inspection_event_inspection_id_inspection"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_event")),
        sa.UniqueConstraint("source_key", name=op.f("uq_inspection_event_source_key")),
    )
    with op.batch_alter_table("inspection_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_event_inspection_id"), ["inspection_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inspection_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_event_inspection_id"))
    op.drop_table("inspection_event")
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_unit_id_year"))
    op.drop_table("inspection")
    op.drop_table("rating_close")
    with op.batch_alter_table("rating_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_answer_round_id"))
    op.drop_table("rating_answer")
    with op.batch_alter_table("rating_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_round_year"))
    op.drop_table("rating_round")
