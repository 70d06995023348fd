"""Storage: SQLModel tables, the async `Database`, repositories, Alembic migrations, and the
bridge that turns the ledger into `scoring.facts.Facts`.

Modules: db (Database, upgrade), models (tables), types (aware-UTC timestamps, exact decimals),
inbound (idempotency record), ledger (append-only submissions, reviews, withdrawals, tasks, admin
entries), facts (Facts for scoring), units / units_import (registry and its import file),
reminders (claim_reminder), outbox (messages to send), conversation (chat state), audit (who did
what). Timestamps are stored in UTC and returned timezone-aware (UTC). Imports `scoring` types
only; never `bot` or `handlers`.
"""
