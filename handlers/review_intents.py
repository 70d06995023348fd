"""The office's review commands (handlers/review.py), apart from their handlers so that the
phrasing table (handlers/phrasings.py) can name them without importing the review itself."""

from __future__ import annotations

from enum import StrEnum


class ReviewIntent(StrEnum):
    QUEUE = "review_queue"  # 待审核 [单位|指标] [第N页]
    SHOW = "review_show"  # 查看 S198
    ACCEPT = "review_accept"  # 通过 S1 S2 / S1-S9 / 本页
    REJECT = "review_reject"  # 退回 S5 原因
    CORRECT = "review_correct"  # 补正 S5 内容 (liaison)
