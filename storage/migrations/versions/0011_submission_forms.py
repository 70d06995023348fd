"""submission.title_form and text_form: the forms the month's repeat check compares
(storage/forms.py), filled in for the submissions already logged

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 04:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.forms import form

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title_form", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("text_form", sa.BigInteger(), nullable=True))
    submission = sa.table(
        "submission",
        sa.column("id", sa.Integer()),
        sa.column("title", sa.String()),
        sa.column("text", sa.Text()),
        sa.column("title_form", sa.BigInteger()),
        sa.column("text_form", sa.BigInteger()),
    )
    bind = op.get_bind()
    update = (
        submission.update()
        .where(submission.c.id == sa.bindparam("_id"))
        .values(title_form=sa.bindparam("_title"), text_form=sa.bindparam("_text"))
    )
    after = 0
    while True:  # in batches by id: a year's submissions are never all in memory at once
        rows = bind.execute(
            sa.select(submission.c.id, submission.c.title, submission.c.text)
            .where(submission.c.id > after)
            .order_by(submission.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            update,
            [
                {"_id": r.id, "_title": form(r.title or ""), "_text": form(r.text or "")}
                for r in rows
            ],
        )
        after = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_column("text_form")
        batch_op.drop_column("title_form")
