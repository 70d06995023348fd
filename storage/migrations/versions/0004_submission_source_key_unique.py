"""submission.source_key unique: one submission per inbound message

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:45:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_source_key"))
        batch_op.create_index(batch_op.f("ix_submission_source_key"), ["source_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_source_key"))
        batch_op.create_index(batch_op.f("ix_submission_source_key"), ["source_key"], unique=False)
