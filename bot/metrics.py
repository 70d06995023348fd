"""Every Prometheus metric of the process, in one registry, served at `GET /metrics`.

Increment from bot/ code directly (`metrics.WECOM_API_ERRORS.labels(errcode="45009").inc()`).
handlers/ and reminders/ never import bot/: what they do is counted here through the hooks bot/
wires (the handler wrapper in bot/app.py, the scheduler's `on_tick`/`on_dispatch`). Numbers that
live in the database (the outbox backlog) are read at scrape time by `refresh_from_db`.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)

CALLBACK_REQUESTS = Counter(
    "kaohe_callback_requests",
    "WeCom callback requests by outcome (replied, no_reply, late, duplicate, refused, "
    "not_recorded, verified, not_configured, error)",
    ["outcome"],
    registry=REGISTRY,
)
# each outcome's counter, looked up once (`labels` builds and locks per call; this is per request)
_CALLBACK_BY_OUTCOME = {
    outcome: CALLBACK_REQUESTS.labels(outcome=outcome)  # present at 0 before the first request
    for outcome in ("ok", "refused", "unavailable", "error")
}


def count_callback(outcome: str) -> None:
    """One callback request more with `outcome`."""
    counter = _CALLBACK_BY_OUTCOME.get(outcome)
    if counter is None:
        counter = _CALLBACK_BY_OUTCOME[outcome] = CALLBACK_REQUESTS.labels(outcome=outcome)
    counter.inc()


HANDLER_SECONDS = Histogram(
    "kaohe_handler_seconds",
    "Time the message handler took for one inbound message",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30),
    registry=REGISTRY,
)
HANDLER_FAILURES = Counter(
    "kaohe_handler_failures", "Inbound messages whose handler raised", registry=REGISTRY
)
OUTBOX_MESSAGES = Gauge(
    "kaohe_outbox_messages",
    "Outbox rows by status (pending is the backlog, failed gave up for good)",
    ["status"],
    registry=REGISTRY,
)
OUTBOX_ATTEMPTS = Counter(
    "kaohe_outbox_attempts",
    "Outbox send attempts by this process, by result (sent, retried, gave_up)",
    ["result"],
    registry=REGISTRY,
)
REMINDER_SENDS = Counter(
    "kaohe_reminder_sends",
    "Reminders and digests the reminder tick queued for sending (one per recipient set)",
    registry=REGISTRY,
)
WECOM_API_ERRORS = Counter(
    "kaohe_wecom_api_errors",
    "WeCom API calls that ended with a non-zero errcode, by API and errcode",
    ["api", "errcode"],
    registry=REGISTRY,
)
WECOM_SENDS = Counter(
    "kaohe_wecom_sends", "Messages sent through WeCom's message/send, by msgtype", ["msgtype"],
    registry=REGISTRY,
)  # fmt: skip
HOLIDAY_DATA_MISSING = Gauge(
    "kaohe_holiday_data_missing",
    "1 when next year's statutory holidays are not known yet (from 1 December)",
    registry=REGISTRY,
)


def count_tick(result: Any) -> None:
    """reminders.tick.TickResult: `claimed` is what this tick queued to send."""
    REMINDER_SENDS.inc(result.claimed)


def count_dispatch(result: Any) -> None:
    """reminders.dispatch.DispatchResult of one dispatcher run."""
    OUTBOX_ATTEMPTS.labels(result="sent").inc(result.sent)
    OUTBOX_ATTEMPTS.labels(result="retried").inc(result.retried)
    OUTBOX_ATTEMPTS.labels(result="gave_up").inc(result.gave_up)


async def refresh_from_db(db: Any) -> None:
    """Read the numbers that live in the database (called by GET /metrics)."""
    from storage.models import OutboxStatus
    from storage.outbox import count_by_status

    counts = await count_by_status(db)
    for status in OutboxStatus:
        OUTBOX_MESSAGES.labels(status=status.value).set(counts.get(status.value, 0))


def exposition() -> tuple[bytes, str]:
    """(body, content type) in the Prometheus text format."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
