"""分级考核: assessments and their admins; every unit and 测评 round in one assessment, existing
ones in the default assessment (id 1), created here

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 13:48:46.642559

"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("organiser_unit_id", sa.Integer(), nullable=True),
        sa.Column("scheme_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
        sa.UniqueConstraint("name", name=op.f("uq_assessment_name")),
    )
    assessment = sa.table(
        "assessment",
        sa.column("id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("actor", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        assessment,
        [{"id": 1, "name": "默认考核", "actor": "migration", "created_at": datetime.now(UTC)}],
    )
    if op.get_bind().dialect.name == "postgresql":  # the next id after the explicit 1
        op.execute("SELECT setval(pg_get_serial_sequence('assessment', 'id'), 1)")
    op.create_table(
        "assessment_admin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("userid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_assessment_admin_assessment_id_assessment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_admin")),
        sa.UniqueConstraint(
            "assessment_id", "userid", name=op.f("uq_assessment_admin_assessment_id_userid")
        ),
    )
    with op.batch_alter_table("assessment_admin", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_admin_assessment_id"), ["assessment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assessment_admin_userid"), ["userid"], unique=False)

    # plain ADD COLUMN (no table rebuild, no foreign key): existing rows join the default one
    op.add_column(
        "rating_round",
        sa.Column("assessment_id", sa.Integer(), server_default="1", nullable=False),
    )
    op.add_column(
        "unit", sa.Column("assessment_id", sa.Integer(), server_default="1", nullable=False)
    )
    op.create_index(op.f("ix_unit_assessment_id"), "unit", ["assessment_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_unit_assessment_id"), table_name="unit")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("assessment_id")
    with op.batch_alter_table("rating_round", schema=None) as batch_op:
        batch_op.drop_column("assessment_id")

    with op.batch_alter_table("assessment_admin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_admin_userid"))
        batch_op.drop_index(batch_op.f("ix_assessment_admin_assessment_id"))

    op.drop_table("assessment_admin")
    op.drop_table("assessment")
