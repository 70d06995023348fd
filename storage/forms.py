"""What makes two texts the same item, and the 64-bit form of it a submission keeps.

A new 政务信息 item is held back when its title or body is the same as one of the unit's month
("…专项行动！" repeats "…专项行动"): the same once blanks, character widths and punctuation are
left aside. Each submission stores the form of its title and of its text, so the check compares
integers read with the month's items instead of normalising every stored text again for every
new message (a unit's busy month was read and normalised whole, per message).

The form is a BLAKE2b digest, stable across processes and versions of kaohe (Python's `hash` is
salted per process). Normalisation follows the running Python's Unicode tables; a character they
classify differently in another version can only make a repeat go unnoticed, never make two
different texts the same.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from hashlib import blake2b


def same_text(text: str) -> str:
    """The text without blanks and punctuation, in NFKC (full-width letters and digits as their
    half-width forms): what two texts must share to be the same."""
    return unicodedata.normalize("NFKC", text).translate(_left_out())


def form(text: str) -> int:
    """The form of a text: the digest of `same_text(text)`."""
    return digest(same_text(text))


def digest(same: str) -> int:
    """The signed 64-bit BLAKE2b digest of a text already made `same_text` (fits a BIGINT on
    every database)."""
    return int.from_bytes(blake2b(same.encode(), digest_size=8).digest(), "big", signed=True)


@cache
def _left_out() -> dict[int, None]:
    """Blanks and punctuation, for str.translate to drop (made at the first comparison)."""
    return {
        code: None
        for code in range(0x30000)
        if chr(code).isspace() or unicodedata.category(chr(code)).startswith("P")
    }
