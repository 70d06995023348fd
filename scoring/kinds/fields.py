"""Field types of the scheme file: exact numbers, ids and choices, each with its Chinese error.

A scheme is typed by people in YAML. Numbers become exact `Fraction`s as written (0.1 is one tenth,
not the nearest float); ids written as bare numbers (`id: 7`) are text; every refusal says what was
expected and what was found, so the loader can name the file, the path and the problem.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from scoring.numbers import fmt, to_fraction


def shown(value: Any) -> str:
    """A short picture of a wrong value for an error message."""
    if value is None:
        return "空值"
    if isinstance(value, dict):
        return "映射"
    if isinstance(value, list | tuple):
        return "列表"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def refuse(what: str, value: Any) -> PydanticCustomError:
    """The error of a value that is not what the field expects ("应为数字，实际为 'abc'")."""
    return PydanticCustomError(
        "kaohe", "{what}，实际为{shown}", {"what": what, "shown": shown(value)}
    )


def _plain_number(value: Any) -> int | float | Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float | Fraction):
        raise refuse("应为数字", value)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        raise refuse("应为有限数字", value)
    return value


def number(*, low: Fraction | int = 0, high: Fraction | int | None = None, positive: bool = False):
    """An exact number within [low, high] (strictly above 0 when `positive`)."""

    def check(value: Any) -> Fraction:
        exact = to_fraction(_plain_number(value))
        if positive and exact <= 0:
            raise refuse("应大于0", value)
        if exact < low:
            raise refuse("不能为负数" if low == 0 else f"不能小于{fmt(Fraction(low))}", value)
        if high is not None and exact > high:
            raise refuse(f"不能大于{fmt(Fraction(high))}", value)
        return exact

    schema: dict[str, Any] = {"type": "number"}
    schema["exclusiveMinimum" if positive else "minimum"] = 0 if positive else float(low)
    if high is not None:
        schema["maximum"] = float(high)
    return Annotated[
        Fraction,
        PlainValidator(check),
        PlainSerializer(plain, return_type=int | float),
        WithJsonSchema(schema),
    ]


def plain(value: Fraction) -> int | float:
    """A Fraction as the number a person would write: 4, 0.1."""
    return int(value) if value.denominator == 1 else float(value)


Num = number()  # 0 or more
PosNum = number(positive=True)
Share = number(high=1)  # a rate or cut-off, 0..1


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise refuse("应为正整数", value)
    return value


PosInt = Annotated[
    int, PlainValidator(_positive_int), WithJsonSchema({"type": "integer", "minimum": 1})
]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise refuse("应为文字", value)
    return value


Text = Annotated[str, PlainValidator(_text), WithJsonSchema({"type": "string"})]


def _ident(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise refuse("应为文字", value)
    if not value.strip() or any(ch.isspace() for ch in value):
        raise refuse("编号不能为空或含空白", value)
    return value


Ident = Annotated[
    str,
    PlainValidator(_ident),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^\S+$"}, {"type": "integer"}]}),
]


def choice(*options: str):
    """One of a few words, e.g. a period kind."""

    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            raise refuse(f"应为 {' / '.join(options)} 之一", value)
        return value

    return Annotated[str, PlainValidator(check), WithJsonSchema({"enum": list(options)})]


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise refuse("应为 true 或 false", value)
    return value


Flag = Annotated[bool, PlainValidator(_flag), WithJsonSchema({"type": "boolean"})]


def reading(default: Any, label: str, choices: dict[str, str]) -> Any:
    """A 口径: where the source leaves a reading open, a named option whose default is the reading
    kaohe has taken so far. `choices` maps each option to what it means, in Chinese; `scheme
    check` lists them all so the office decides knowingly (seed 000 第十三条)."""
    from pydantic import Field

    extra: dict[str, Any] = {"口径": label, "choices": choices}
    return Field(default, description=label, json_schema_extra=extra)


ANY_VALUE = "N"  # a choice key that stands for any value ("N": "每月N篇")


def choice_key(value: Any) -> str:
    """A value as the key of a 口径 choice: numbers as written (4, 0.5), lists joined by commas,
    nothing as ""; so that `deadline: +10d` matches the choice `+10d` and `points: 3` the choice 3."""
    from decimal import Decimal

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Fraction | Decimal):
        return str(plain(to_fraction(value)))
    if isinstance(value, list | tuple):
        return ",".join(choice_key(v) for v in value)
    return str(value)


def choice_meaning(choices: dict[str, str], key: str) -> str | None:
    """What a choice means: its own line, else the `N` line with N put in (None: not a choice)."""
    if key in choices:
        return choices[key]
    if ANY_VALUE in choices:
        return choices[ANY_VALUE].replace(ANY_VALUE, key)
    return None
