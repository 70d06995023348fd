"""inbound_message: the channel it came by and the handling claim in their own columns

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 11:00:00

A recovery claim used to live inside the `reply` JSON ('{"mode": "recovering", ...}'). Now every
message is claimed by the process that records it (`claimed_by`, `claimed_until`, renewed while it
is handled); an old claim marker becomes an expired claim, so the message is recovered again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=20), nullable=False, server_default="wecom")
        )
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", storage.types.UTCDateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_inbound_message_claimed_until"), ["claimed_until"], unique=False
        )
    op.execute(
        "UPDATE inbound_message SET reply = NULL, replied_at = NULL "
        'WHERE reply LIKE \'{"mode": "recovering"%\''
    )


def downgrade() -> None:
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_message_claimed_until"))
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("channel")
