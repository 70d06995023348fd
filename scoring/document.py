"""The scheme file as pydantic models: what may be written where, validated in one pass.

The rule of a scheme file is flat (`{kind: quota, per_period: 4, points: 4, period: monthly}`):
each registered kind's parameter model joined with the fields every rule has, and the rules of a
target a union discriminated by `kind`. The models are built from the kind registry (and rebuilt
when it changes), so `kaohe scheme schema` and the loader always know every kind. Checks across the
whole file (unique ids, `shares`, a points cell for every target, MM-DD deadlines) run on the raw
data as well, so one load reports every problem, each as "file: path: what" in Chinese.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    ValidationError,
    WithJsonSchema,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError

from scoring import kinds
from scoring.kinds.fields import (
    ANY_VALUE,
    Flag,
    Ident,
    Num,
    Text,
    choice,
    choice_key,
    reading,
    refuse,
    shown,
)
from scoring.numbers import fmt
from scoring.periods import PERIOD_KINDS, PeriodKind, is_month_day, valid_deadline

SCHEME_ID = re.compile(r"^[a-z0-9-]+$")
READING = "口径：原文未定或可有不同理解、由本方案取定之处（scheme check 列出）"


def _scheme_id(value: Any) -> str:
    if not isinstance(value, str):
        raise refuse("应为文字", value)
    if not SCHEME_ID.match(value):
        raise refuse("方案编号只能含小写字母、数字和连字符", value)
    return value


def _deadline(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not valid_deadline(value):
        raise refuse("应为 period_end、+Nd（如 +10d）或 MM-DD（如12-15）", value)
    return value


def _typed(kind: type, check, schema: dict[str, Any]) -> Any:
    return Annotated[kind, PlainValidator(check), WithJsonSchema(schema)]


SchemeId = _typed(str, _scheme_id, {"type": "string", "pattern": SCHEME_ID.pattern})
Deadline = _typed(
    str,
    _deadline,
    {
        "type": "string",
        "pattern": r"^(period_end|\+\d+d|\d{2}-\d{2})$",
        "description": "period_end、+Nd（期末后 N 天）或 MM-DD（仅 yearly / once）",
    },
)
Period = choice(*PERIOD_KINDS)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise refuse("应为0或正整数", value)
    return value


UnfinishedAllowed = _typed(int, _count, {"type": "integer", "minimum": 0})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _choices(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise refuse("应为映射（可写的值: 含义）", value)
    out: dict[str, str] = {}
    for key, meaning in value.items():
        if not isinstance(key, str | int | float) or isinstance(key, bool):
            raise refuse("可选的值应为文字或数字", key)
        if not isinstance(meaning, str) or not meaning.strip():
            raise refuse(f"口径 {choice_key(key)} 的含义应为文字", meaning)
        if choice_key(key) in out:
            raise refuse("可选的值重复", key)
        out[choice_key(key)] = meaning
    if len(out) < 2:
        raise refuse("至少列出两种可选的口径", value)
    return out


Choices = _typed(
    dict,
    _choices,
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "minProperties": 2,
        "description": f"可写的值 → 含义；{ANY_VALUE} 代表任意值",
    },
)


class ReadingDoc(_Strict):
    """A 口径 the office may switch: the field it concerns, and the values it may take there."""

    about: Ident = Field(description="所关系的字段：deadline、period、points 或规则类型的参数")
    label: Text = Field(description="它决定什么，如「月报截止」")
    note: Text = Field("", description="原文为何未定")
    choices: Choices = Field(description="可写的值 → 含义（scheme check 列出）")  # type: ignore[valid-type]


TEXT_TAG, CHOICE_TAG = "文字", "可选口径"  # the two forms of `reading` (dropped from error paths)
ReadingField = Annotated[
    Annotated[Text, Tag(TEXT_TAG)] | Annotated[ReadingDoc, Tag(CHOICE_TAG)],
    Discriminator(lambda v: CHOICE_TAG if isinstance(v, dict | ReadingDoc) else TEXT_TAG),
    Field(description=READING),
]


class RuleFields(_Strict):
    """What every rule has besides its kind's parameters."""

    id: Ident | None = Field(None, description="默认为 <目标编号>.<序号>")
    text: Text = Field("", description="规则原文")
    period: Period = PeriodKind.YEARLY.value  # type: ignore[valid-type]
    deadline: Deadline | None = None  # type: ignore[valid-type]
    office: Text | None = Field(None, description="默认为目标的，再为项目的负责部门")
    reading: ReadingField = ""


class GradingDoc(_Strict):
    """Seed 000 第七条: the lines of 优秀 and 良好, and the tasks whose failure is 不合格."""

    excellent: Num = 90
    good: Num = 80
    required_task_kinds: tuple[Ident, ...] = ()
    lines: choice("inclusive", "above") = reading(  # type: ignore[valid-type]
        "inclusive",
        "“90分以上”“80以上”是否含本数",
        {
            "inclusive": "含本数：基本分达到90即优秀、达到80即良好",
            "above": "不含本数：须高于90、高于80",
        },
    )
    unfinished_allowed: UnfinishedAllowed = reading(  # type: ignore[valid-type]
        0,
        "「完成年度工作任务」可容许的逾期未完成项数（超过即不合格）",
        {"0": "一项逾期未完成即不合格", "N": "容许 N 项逾期未完成（「基本完成」）"},
    )

    @field_validator("good")
    @classmethod
    def _below_excellent(cls, good, info):
        excellent = info.data.get("excellent")
        if excellent is not None and good > excellent:
            raise PydanticCustomError(
                "kaohe",
                "良好线{good}高于优秀线{high}",
                {"good": fmt(good), "high": fmt(excellent)},
            )
        return good


def _rule_model(kind: type[kinds.RuleKind]) -> type[BaseModel]:
    """One kind's rule as written in a file: its parameters plus the common rule fields."""
    name = kinds.kind_name(kind)
    return create_model(
        f"{kind.__name__}Rule",
        __base__=(kind, RuleFields),
        __doc__=f"{name}：{kind.title}",
        kind=(Literal[name], Field(description=kind.title)),  # type: ignore[arg-type]  # required in a file
    )


@cache
def documents() -> tuple[type[BaseModel], ...]:
    """(SchemeDoc, ItemDoc, TargetDoc) for the kinds registered now."""
    rule_models = [_rule_model(k) for k in kinds.all_kinds().values()]
    if len(rule_models) == 1:
        RuleDoc: Any = rule_models[0]
    else:
        RuleDoc = Annotated[Union[tuple(rule_models)], Field(discriminator="kind")]  # noqa: UP007

    class TargetDoc(_Strict):
        """A target (环保目标): its rules, and its own points cell when it has one."""

        id: Ident
        name: Text
        text: Text = ""
        points: Num | None = None
        office: Text | None = None
        reading: ReadingField = ""
        rules: list[RuleDoc] = Field(min_length=1)

    class ItemDoc(_Strict):
        """An item (项目): its targets, its points cell or the item whose cell it shares."""

        id: Ident
        name: Text
        points: Num | None = None
        office: Text = ""
        bonus: Flag = False
        shares: Ident | None = None
        targets: list[TargetDoc] = Field(min_length=1)

        @field_validator("shares")
        @classmethod
        def _shares_alone(cls, shares, info):
            if shares is not None and info.data.get("points") is not None:
                raise PydanticCustomError("kaohe", "共用分值的项目不能再有自己的 points")
            if shares is not None and info.data.get("bonus"):
                raise PydanticCustomError("kaohe", "加分项目不能与其他项目共用分值")
            return shares

    class SchemeDoc(_Strict):
        """A scoring scheme (考核办法): items → targets → rules."""

        id: SchemeId  # type: ignore[valid-type]
        name: Text
        source: Text = ""
        total: Num | None = None
        grading: GradingDoc | None = None
        items: list[ItemDoc] = Field(min_length=1)

    return SchemeDoc, ItemDoc, TargetDoc


kinds.on_change(documents.cache_clear)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a scheme file (editors with YAML completion read it)."""
    schema = documents()[0].model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "kaohe 考核方案"
    return schema


# ---- errors in Chinese, with their paths --------------------------------------------------------


def problems(exc: ValidationError, root: type[BaseModel] | None = None) -> list[tuple[str, str]]:
    """(path, what) for every error of a validation of `root` (default: the scheme), in the
    file's words."""
    out = []
    for err in exc.errors(include_url=False):
        loc = _path_parts(err["loc"])
        kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
        if kind == "union_tag_invalid":
            names = " / ".join(kinds.all_kinds())
            what = f"未知的规则类型 {ctx.get('tag')!r}（可用：{names}）"
            loc = [*loc, "kind"]
        elif kind == "union_tag_not_found":
            what, loc = "缺少必填字段", [*loc, "kind"]
        elif kind == "missing":
            what = "缺少必填字段"
        elif kind == "extra_forbidden":
            what = f"未知字段（允许：{', '.join(_fields_at(err['loc'], root))}）"
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            what = f"应为映射（key: value），实际为{shown(value)}"
        elif kind in ("list_type", "tuple_type"):
            what = f"应为列表，实际为{shown(value)}"
        elif kind == "too_short":
            what = "至少需要一项"
        elif kind == "too_long":
            what = f"最多{ctx.get('max_length')}项"
        else:
            what = err["msg"]
        out.append((_join(loc), what))
    return out


def _path_parts(loc: tuple) -> list[str | int]:
    """The path as the file reads, without the union tags pydantic inserts after a rule's index."""
    parts: list[str | int] = []
    for n, part in enumerate(loc):
        if n >= 2 and loc[n - 2] == "rules" and isinstance(loc[n - 1], int):
            continue  # the kind tag
        if n >= 1 and loc[n - 1] == "reading" and part in (TEXT_TAG, CHOICE_TAG):
            continue  # the form of a reading
        parts.append(part)
    return parts


def _join(parts: list[str | int]) -> str:
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _fields_at(loc: tuple, root: type[BaseModel] | None = None) -> list[str]:
    """The fields allowed where an unknown one was written (the model holding `loc[-1]`)."""
    model: Any = root or documents()[0]
    registry = kinds.all_kinds()
    for n, part in enumerate(loc[:-1]):
        if isinstance(part, int) or part in (TEXT_TAG, CHOICE_TAG):
            continue
        if n >= 2 and loc[n - 2] == "rules" and isinstance(loc[n - 1], int) and part in registry:
            model = _rule_model(registry[part])
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = _inner_model(field.annotation)
    return sorted(getattr(model, "model_fields", {}))


def _inner_model(annotation: Any) -> Any:
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


# ---- checks across the file, on the raw data ----------------------------------------------------


def cross_problems(data: Any) -> list[tuple[str, str]]:
    """Unique ids, `shares` that name a shareable item, a points cell for every target, MM-DD
    deadlines only on yearly rules. Reads the raw data leniently: what is malformed there is
    already reported by the models."""
    out: list[tuple[str, str]] = []
    seen: dict[str, str] = {}

    def claim(ident: Any, path: str) -> None:
        ident = _ident(ident)
        if ident is None:
            return
        if ident in seen:
            out.append((f"{path}.id", f"编号 {ident!r} 重复（已用于{seen[ident]}）"))
        else:
            seen[ident] = path

    items = _seq(_map(data).get("items"))
    by_id: dict[str, dict] = {}
    for n, item in enumerate(items):
        ipath = f"items[{n}]"
        item = _map(item)
        claim(item.get("id"), ipath)
        if _ident(item.get("id")) is not None:
            by_id.setdefault(_ident(item.get("id")), item)  # type: ignore[arg-type]
        for m, target in enumerate(_seq(item.get("targets"))):
            tpath = f"{ipath}.targets[{m}]"
            target = _map(target)
            claim(target.get("id"), tpath)
            out += _reading_choice(target, tpath, {"points": None})
            for k, rule in enumerate(_seq(target.get("rules"))):
                rpath = f"{tpath}.rules[{k}]"
                rule = _map(rule)
                tid = _ident(target.get("id")) or ""
                claim(rule.get("id", f"{tid}.{k + 1}"), rpath)
                out += _month_day(rule, rpath)
                out += _reading_choice(rule, rpath, _rule_defaults(rule))
    for n, item in enumerate(items):
        out += _item_cell(_map(item), f"items[{n}]", by_id)
    return out


def _rule_defaults(rule: dict) -> dict[str, Any]:
    """The fields a rule's `reading` may be about, with the value each takes when not written."""
    fields: dict[str, Any] = {"deadline": None, "period": PeriodKind.YEARLY.value}
    kind = kinds.all_kinds().get(rule.get("kind"))  # type: ignore[arg-type]
    if kind is not None:
        for name, info in kind.model_fields.items():
            if name != "kind":
                fields[name] = None if info.is_required() else info.default
    return fields


def _reading_choice(node: dict, path: str, fields: dict[str, Any]) -> list[tuple[str, str]]:
    """A `reading` with choices names a field of its rule or target, and the value written there
    is one of its choices (so that `scheme check` says which reading is in force)."""
    reading = node.get("reading")
    if not isinstance(reading, dict) or not isinstance(reading.get("choices"), dict):
        return []
    about = reading.get("about")
    if not isinstance(about, str):
        return []
    if about not in fields:
        allowed = "、".join(fields)
        return [(f"{path}.reading.about", f"没有字段 {about!r} 可选（可写：{allowed}）")]
    keys = [choice_key(k) for k in reading["choices"]]
    value = choice_key(node.get(about, fields[about]))
    if value in keys or ANY_VALUE in keys:
        return []
    shown_value = value or "空"
    return [
        (
            f"{path}.{about}",
            f"{about} 为 {shown_value}，不是口径「{reading.get('label', about)}」的可选值"
            f"（{' / '.join(keys)}）：请改为其中之一，或把它写入 reading.choices 并写明含义",
        )
    ]


def _month_day(rule: dict, path: str) -> list[tuple[str, str]]:
    deadline = rule.get("deadline")
    if not is_month_day(str(deadline) if isinstance(deadline, int) else deadline):
        return []
    periods = rule.get("periods") if isinstance(rule.get("periods"), list) else None
    periods = periods or [rule.get("period", PeriodKind.YEARLY)]
    if any(p not in (PeriodKind.YEARLY, PeriodKind.ONCE) for p in periods):
        return [(f"{path}.deadline", "MM-DD 形式的截止日期只能用于 yearly 或 once")]
    return []


def _item_cell(item: dict, path: str, by_id: dict[str, dict]) -> list[tuple[str, str]]:
    shares = _ident(item.get("shares"))
    if shares is not None:
        other = by_id.get(shares)
        if other is None:
            return [(f"{path}.shares", f"没有编号为 {shares!r} 的项目")]
        if other is item:
            return [(f"{path}.shares", "项目不能与自己共用分值")]
        if other.get("shares") is not None:
            return [(f"{path}.shares", f"项目{shares}本身也在共用分值，不能再共用")]
        if other.get("points") is None:
            return [(f"{path}.shares", f"项目{shares}没有 points，无从共用")]
        if other.get("bonus") is True:
            return [(f"{path}.shares", f"不能与加分项目{shares}共用分值")]
        return []
    if item.get("bonus") is True or item.get("points") is not None:
        return []
    out = []
    for n, target in enumerate(_seq(item.get("targets"))):
        target = _map(target)
        if target.get("points") is None:
            tid, iid = _ident(target.get("id")), _ident(item.get("id"))
            out.append(
                (
                    f"{path}.targets[{n}].points",
                    f"目标{tid}没有分值，所在项目{iid}也没有 points 或 shares",
                )
            )
    return out


def _map(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _seq(value: Any) -> list:
    return value if isinstance(value, list) else []


def _ident(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value.strip() else None
