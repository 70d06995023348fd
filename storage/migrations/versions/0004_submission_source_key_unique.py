"""submission.source_key unique: one submission per inbound message

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:45:00

Before this, a message handled again after a crash could log its submission twice, both rows
carrying the message's key. The earliest keeps the key; later ones lose it (they stay in the
ledger, unchanged otherwise, so any double count is left for the office to see and withdraw) and
are listed in the migration's log, so that the index can be made unique.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    bind = op.get_bind()
    duplicates = bind.execute(
        sa.text(
            "SELECT s.id, s.source_key FROM submission s WHERE s.source_key IS NOT NULL AND "
            "s.id > (SELECT MIN(f.id) FROM submission f WHERE f.source_key = s.source_key)"
        )
    ).all()
    if duplicates:
        log.warning(
            "submissions logged twice from one message (key cleared, rows kept): %s",
            ", ".join(f"S{row.id} ({row.source_key})" for row in duplicates),
        )
        bind.execute(
            sa.text("UPDATE submission SET source_key = NULL WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": [row.id for row in duplicates]},
        )
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_source_key"))
        batch_op.create_index(batch_op.f("ix_submission_source_key"), ["source_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_source_key"))
        batch_op.create_index(batch_op.f("ix_submission_source_key"), ["source_key"], unique=False)
