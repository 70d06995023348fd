"""Field checking shared by the scheme and facts loaders: collect every error with its path.

Each check returns a usable value (or None) and records a message like
`chuangmo.yaml: items[2].targets[0].rules[1].amount: 应为非负数，实际为 "abc"`, so one load reports
every problem at once instead of the first only.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from scoring.numbers import to_fraction


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Collector:
    """Accumulates error messages for one file."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[str] = []

    def error(self, path: str, what: str) -> None:
        where = f"{self.source}: {path}" if path else self.source
        self.errors.append(f"{where}: {what}")

    # ---- structure ---------------------------------------------------------------------------
    def mapping(self, value: Any, path: str, allowed: Iterable[str]) -> dict[str, Any] | None:
        """A mapping whose keys are all in `allowed` (unknown keys are errors)."""
        if not isinstance(value, dict):
            self.error(path, f"应为映射（key: value），实际为 {_show(value)}")
            return None
        allowed = set(allowed)
        for key in value:
            if not isinstance(key, str) or key not in allowed:
                self.error(join(path, str(key)), f"未知字段（允许：{', '.join(sorted(allowed))}）")
        return value

    def seq(self, data: dict[str, Any], key: str, path: str, *, required: bool) -> list[Any]:
        value = data.get(key)
        if value is None:
            if required:
                self.error(join(path, key), "缺少必填字段")
            return []
        if not isinstance(value, list):
            self.error(join(path, key), f"应为列表，实际为 {_show(value)}")
            return []
        return value

    # ---- scalars -----------------------------------------------------------------------------
    def text(
        self, data: dict[str, Any], key: str, path: str, *, required: bool, ident: bool = False
    ) -> str | None:
        """A string; ids written as bare numbers in YAML (`id: 7`) are accepted as "7"."""
        value = data.get(key)
        if value is None:
            if required:
                self.error(join(path, key), "缺少必填字段")
            return None
        if ident and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.error(join(path, key), f"应为文字，实际为 {_show(value)}")
            return None
        if ident and (not value.strip() or any(ch.isspace() for ch in value)):
            self.error(join(path, key), f"编号不能为空或含空白：{value!r}")
            return None
        return value

    def number(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        *,
        required: bool,
        low: Fraction | int = 0,
        high: Fraction | int | None = None,
        positive: bool = False,
    ) -> Fraction | None:
        """A number within [low, high] (strictly above 0 when `positive`)."""
        if key not in data or data[key] is None:
            if required:
                self.error(join(path, key), "缺少必填字段")
            return None
        return self.number_value(data[key], join(path, key), low=low, high=high, positive=positive)

    def number_value(
        self,
        value: Any,
        path: str,
        *,
        low: Fraction | int = 0,
        high: Fraction | int | None = None,
        positive: bool = False,
    ) -> Fraction | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(path, f"应为数字，实际为 {_show(value)}")
            return None
        if value != value or value in (float("inf"), float("-inf")):
            self.error(path, f"应为有限数字，实际为 {value}")
            return None
        number = to_fraction(value)
        if positive and number <= 0:
            self.error(path, f"应大于 0，实际为 {value}")
            return None
        if number < low:
            what = "不能为负数" if low == 0 else f"不能小于 {_num(low)}"
            self.error(path, f"{what}，实际为 {value}")
            return None
        if high is not None and number > high:
            self.error(path, f"不能大于 {_num(high)}，实际为 {value}")
            return None
        return number

    def boolean(self, data: dict[str, Any], key: str, path: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.error(join(path, key), f"应为 true 或 false，实际为 {_show(value)}")
            return False
        return value

    def choice(
        self, data: dict[str, Any], key: str, path: str, options: Iterable[str], *, required: bool
    ) -> str | None:
        value = self.text(data, key, path, required=required)
        options = tuple(options)
        if value is not None and value not in options:
            self.error(join(path, key), f"应为 {' / '.join(options)} 之一，实际为 {value!r}")
            return None
        return value


def _num(value: Fraction | int) -> str:
    from scoring.numbers import fmt

    return fmt(Fraction(value))


def _show(value: Any) -> str:
    if value is None:
        return "空值"
    if isinstance(value, dict):
        return "映射"
    if isinstance(value, list):
        return "列表"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
