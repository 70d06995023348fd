"""Load and validate a scheme YAML file (docs/scheme.md, "Scheme file").

Every field is checked; all problems are collected and raised together as one `SchemeError` whose
lines name the file, the path inside it and what is wrong. Built-in schemes live beside this module
in `schemes/<id>.yaml`.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from scoring.errors import SchemeError
from scoring.model import (
    PARAM_TYPES,
    RULE_KINDS,
    Award,
    Checklist,
    ChecklistItem,
    Deduction,
    Discretionary,
    Gate,
    Grading,
    Item,
    OnTime,
    Params,
    PerUnit,
    PointsIfNone,
    Quota,
    Ratio,
    Reports,
    Rule,
    Scheme,
    SteppedRate,
    Target,
    TaskList,
    Threshold,
)
from scoring.periods import PERIOD_KINDS, is_month_day, valid_deadline
from scoring.validate import Collector, join

SCHEMES_DIR = Path(__file__).with_name("schemes")
SCHEME_ID = re.compile(r"^[a-z0-9-]+$")

SCHEME_FIELDS = ("id", "name", "source", "total", "grading", "items")
ITEM_FIELDS = ("id", "name", "points", "office", "targets", "bonus", "shares")
TARGET_FIELDS = ("id", "name", "text", "points", "office", "rules")
RULE_FIELDS = ("id", "kind", "text", "period", "deadline", "office")
GRADING_FIELDS = ("excellent", "good", "required_task_kinds")
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "award": ("points",),
    "discretionary": ("max",),
    "ratio": ("points", "cutoff"),
    "threshold": ("points", "min"),
    "checklist": ("points", "items", "per_missing"),
    "task_list": ("task_kind", "points", "points_if_none"),
    "per_unit": ("points", "unit_size", "baseline", "max"),
    "quota": ("per_period", "points"),
    "on_time": ("task_kind", "points"),
    "deduction": ("amount", "range", "max"),
    "reports": ("periods", "amount"),
    "stepped_rate": ("min", "step", "amount"),
    "gate": ("when",),
}
assert set(KIND_FIELDS) == set(PARAM_TYPES) == set(RULE_KINDS)


# ---- public API -------------------------------------------------------------------------------


def builtin_scheme_ids() -> list[str]:
    """Ids of the schemes shipped in `scoring/schemes/`, sorted."""
    if not SCHEMES_DIR.is_dir():
        return []
    return sorted(p.stem for p in SCHEMES_DIR.glob("*.yaml"))


@lru_cache(maxsize=32)
def load_builtin(scheme_id: str) -> Scheme:
    """A built-in scheme by id (cached: schemes are immutable)."""
    path = SCHEMES_DIR / f"{scheme_id}.yaml"
    if not SCHEME_ID.match(scheme_id) or not path.is_file():
        known = "、".join(builtin_scheme_ids()) or "无"
        raise SchemeError([f"没有内置考核方案 {scheme_id!r}（内置方案：{known}）"])
    return load_scheme_file(path)


def load_scheme(id_or_path: str | Path) -> Scheme:
    """A built-in scheme id, or the path of a scheme YAML file."""
    text = str(id_or_path)
    if SCHEME_ID.match(text) and not Path(text).is_file():
        return load_builtin(text)
    return load_scheme_file(Path(text))


def load_scheme_file(path: str | Path) -> Scheme:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SchemeError([f"{path}: 文件不存在"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemeError([f"{path}: 无法读取（{exc}）"]) from None
    return load_scheme_text(text, source=str(path))


def load_scheme_text(text: str, source: str = "<scheme>") -> Scheme:
    """Parse and validate scheme YAML; raise `SchemeError` listing every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SchemeError([f"{source}: YAML 语法错误 {where}：{problem}"]) from None
    return _SchemeBuilder(source).build(data)


# ---- building ---------------------------------------------------------------------------------


class _SchemeBuilder:
    def __init__(self, source: str) -> None:
        self.c = Collector(source)
        self.source = source
        self.ids: dict[str, str] = {}  # id -> path where first defined

    def _claim(self, ident: str | None, path: str) -> None:
        if ident is None:
            return
        if ident in self.ids:
            self.c.error(join(path, "id"), f"编号 {ident!r} 重复（已用于 {self.ids[ident]}）")
        else:
            self.ids[ident] = path

    def build(self, data: Any) -> Scheme:
        c = self.c
        root = c.mapping(data, "", SCHEME_FIELDS)
        if root is None:
            raise SchemeError(c.errors)
        scheme_id = c.text(root, "id", "", required=True)
        if scheme_id is not None and not SCHEME_ID.match(scheme_id):
            c.error("id", f"方案编号只能含小写字母、数字和连字符，实际为 {scheme_id!r}")
        name = c.text(root, "name", "", required=True)
        source = c.text(root, "source", "", required=False) or ""
        total = c.number(root, "total", "", required=False)
        grading = self._grading(root.get("grading")) if "grading" in root else None
        raw_items = c.seq(root, "items", "", required=True)
        if "items" in root and not raw_items and isinstance(root.get("items"), list):
            c.error("items", "至少需要一个项目")
        items = [self._item(raw, join("items", n)) for n, raw in enumerate(raw_items)]
        built = [i for i in items if i is not None]
        self._cross_check(built)
        if c.errors:
            raise SchemeError(c.errors)
        return Scheme(
            id=scheme_id or "",
            name=name or "",
            items=tuple(built),
            source=source,
            total=total,
            grading=grading,
            path=self.source,
        )

    def _grading(self, raw: Any) -> Grading | None:
        c = self.c
        data = c.mapping(raw, "grading", GRADING_FIELDS)
        if data is None:
            return None
        excellent = c.number(data, "excellent", "grading", required=False)
        good = c.number(data, "good", "grading", required=False)
        excellent = Fraction(90) if excellent is None else excellent
        good = Fraction(80) if good is None else good
        if good > excellent:
            c.error("grading.good", f"良好线 {good} 高于优秀线 {excellent}")
        kinds: list[str] = []
        for n, kind in enumerate(c.seq(data, "required_task_kinds", "grading", required=False)):
            if not isinstance(kind, str) or not kind:
                c.error(f"grading.required_task_kinds[{n}]", "应为任务类型（文字）")
            else:
                kinds.append(kind)
        return Grading(excellent=excellent, good=good, required_task_kinds=tuple(kinds))

    def _item(self, raw: Any, path: str) -> Item | None:
        c = self.c
        data = c.mapping(raw, path, ITEM_FIELDS)
        if data is None:
            return None
        item_id = c.text(data, "id", path, required=True, ident=True)
        self._claim(item_id, path)
        name = c.text(data, "name", path, required=True)
        points = c.number(data, "points", path, required=False)
        office = c.text(data, "office", path, required=False) or ""
        bonus = c.boolean(data, "bonus", path)
        shares = c.text(data, "shares", path, required=False, ident=True)
        if shares is not None and points is not None:
            c.error(join(path, "shares"), "共用分值的项目不能再有自己的 points")
        if shares is not None and bonus:
            c.error(join(path, "shares"), "加分项目不能与其他项目共用分值")
        raw_targets = c.seq(data, "targets", path, required=True)
        if isinstance(data.get("targets"), list) and not raw_targets:
            c.error(join(path, "targets"), "至少需要一个目标")
        targets = []
        for n, raw_t in enumerate(raw_targets):
            target = self._target(raw_t, join(join(path, "targets"), n), item_id or "", office)
            if target is not None:
                targets.append(target)
        return Item(
            id=item_id or "",
            name=name or "",
            targets=tuple(targets),
            points=points,
            office=office,
            bonus=bonus,
            shares=shares,
        )

    def _target(self, raw: Any, path: str, item_id: str, item_office: str) -> Target | None:
        c = self.c
        data = c.mapping(raw, path, TARGET_FIELDS)
        if data is None:
            return None
        target_id = c.text(data, "id", path, required=True, ident=True)
        self._claim(target_id, path)
        name = c.text(data, "name", path, required=True)
        text = c.text(data, "text", path, required=False) or ""
        points = c.number(data, "points", path, required=False)
        office = c.text(data, "office", path, required=False) or item_office
        raw_rules = c.seq(data, "rules", path, required=True)
        if isinstance(data.get("rules"), list) and not raw_rules:
            c.error(join(path, "rules"), "至少需要一条规则")
        rules = []
        for n, raw_r in enumerate(raw_rules):
            rule = self._rule(
                raw_r, join(join(path, "rules"), n), target_id or "", item_id, office, n + 1
            )
            if rule is not None:
                rules.append(rule)
        return Target(
            id=target_id or "",
            name=name or "",
            rules=tuple(rules),
            item=item_id,
            text=text,
            points=points,
            office=office,
        )

    def _rule(
        self, raw: Any, path: str, target_id: str, item_id: str, office: str, n: int
    ) -> Rule | None:
        c = self.c
        if not isinstance(raw, dict):
            c.mapping(raw, path, ())
            return None
        kind = c.choice(raw, "kind", path, RULE_KINDS, required=True)
        allowed = RULE_FIELDS + (KIND_FIELDS[kind] if kind else tuple(raw))
        data = c.mapping(raw, path, allowed)
        if data is None:
            return None
        rule_id = c.text(data, "id", path, required=False, ident=True) or f"{target_id}.{n}"
        self._claim(rule_id, path)
        text = c.text(data, "text", path, required=False) or ""
        period = c.choice(data, "period", path, PERIOD_KINDS, required=False) or "yearly"
        deadline = data.get("deadline")
        if deadline is not None:
            if isinstance(deadline, int) and not isinstance(deadline, bool):
                deadline = str(deadline)
            if not isinstance(deadline, str) or not valid_deadline(deadline):
                c.error(
                    join(path, "deadline"),
                    f"应为 period_end、+Nd（如 +10d）或 MM-DD（如 12-15），实际为 {deadline!r}",
                )
                deadline = None
        rule_office = c.text(data, "office", path, required=False) or office
        params = self._params(kind, data, path) if kind else None
        if is_month_day(deadline):
            raw_periods = data.get("periods")
            periods = (
                raw_periods if kind == "reports" and isinstance(raw_periods, list) else [period]
            )
            if any(p not in ("yearly", "once") for p in periods):
                c.error(join(path, "deadline"), "MM-DD 形式的截止日期只能用于 yearly 或 once")
        if kind is None or params is None:
            return None
        return Rule(
            id=rule_id,
            kind=kind,
            params=params,
            target=target_id,
            item=item_id,
            text=text,
            period=period,
            deadline=deadline,
            office=rule_office,
        )

    def _params(self, kind: str, d: dict[str, Any], path: str) -> Params | None:
        c = self.c
        errors_before = len(c.errors)
        num = c.number
        result: Params | None = None
        if kind == "award":
            result = Award(points=num(d, "points", path, required=True) or Fraction(0))
        elif kind == "discretionary":
            result = Discretionary(max=num(d, "max", path, required=True) or Fraction(0))
        elif kind == "ratio":
            result = Ratio(
                points=num(d, "points", path, required=True) or Fraction(0),
                cutoff=num(d, "cutoff", path, required=False, high=1),
            )
        elif kind == "threshold":
            result = Threshold(
                points=num(d, "points", path, required=True) or Fraction(0),
                min=num(d, "min", path, required=True) or Fraction(0),
            )
        elif kind == "checklist":
            result = Checklist(
                points=num(d, "points", path, required=True) or Fraction(0),
                items=self._checklist_items(d, path),
                per_missing=num(d, "per_missing", path, required=True) or Fraction(0),
            )
        elif kind == "task_list":
            result = TaskList(
                task_kind=c.text(d, "task_kind", path, required=True, ident=True) or "",
                points=num(d, "points", path, required=True) or Fraction(0),
                points_if_none=self._points_if_none(d.get("points_if_none"), path),
            )
        elif kind == "per_unit":
            unit_size = num(d, "unit_size", path, required=False, positive=True)
            result = PerUnit(
                points=num(d, "points", path, required=True) or Fraction(0),
                unit_size=unit_size if unit_size is not None else Fraction(1),
                baseline=num(d, "baseline", path, required=False) or Fraction(0),
                max=num(d, "max", path, required=False),
            )
        elif kind == "quota":
            per_period = d.get("per_period")
            if per_period is None:
                c.error(join(path, "per_period"), "缺少必填字段")
            elif isinstance(per_period, bool) or not isinstance(per_period, int) or per_period < 1:
                c.error(join(path, "per_period"), f"应为正整数，实际为 {per_period!r}")
            result = Quota(
                per_period=per_period if isinstance(per_period, int) else 1,
                points=num(d, "points", path, required=True) or Fraction(0),
            )
        elif kind == "on_time":
            result = OnTime(
                task_kind=c.text(d, "task_kind", path, required=True, ident=True) or "",
                points=num(d, "points", path, required=True) or Fraction(0),
            )
        elif kind == "deduction":
            result = self._deduction(d, path)
        elif kind == "reports":
            result = self._reports(d, path)
        elif kind == "stepped_rate":
            result = SteppedRate(
                min=num(d, "min", path, required=True) or Fraction(0),
                step=num(d, "step", path, required=True, positive=True) or Fraction(1),
                amount=num(d, "amount", path, required=True) or Fraction(0),
            )
        elif kind == "gate":
            when = c.choice(d, "when", path, ("missing", "event"), required=True)
            result = Gate(when=when or "missing")
        return result if len(c.errors) == errors_before else None

    def _checklist_items(self, d: dict[str, Any], path: str) -> tuple[ChecklistItem, ...]:
        c = self.c
        items: list[ChecklistItem] = []
        keys: set[str] = set()
        raw_items = c.seq(d, "items", path, required=True)
        if isinstance(d.get("items"), list) and not raw_items:
            c.error(join(path, "items"), "至少需要一项")
        for n, raw in enumerate(raw_items):
            ipath = join(join(path, "items"), n)
            data = c.mapping(raw, ipath, ("key", "name"))
            if data is None:
                continue
            key = c.text(data, "key", ipath, required=True, ident=True)
            name = c.text(data, "name", ipath, required=True)
            if key is not None and key in keys:
                c.error(join(ipath, "key"), f"键 {key!r} 重复")
            if key is not None and name is not None:
                keys.add(key)
                items.append(ChecklistItem(key=key, name=name))
        return tuple(items)

    def _points_if_none(self, raw: Any, path: str) -> PointsIfNone | None:
        if raw is None:
            return None
        c = self.c
        ppath = join(path, "points_if_none")
        data = c.mapping(raw, ppath, ("task_kind", "points"))
        if data is None:
            return None
        kind = c.text(data, "task_kind", ppath, required=True, ident=True)
        points = c.number(data, "points", ppath, required=True)
        if kind is None or points is None:
            return None
        return PointsIfNone(task_kind=kind, points=points)

    def _deduction(self, d: dict[str, Any], path: str) -> Deduction:
        c = self.c
        amount = c.number(d, "amount", path, required=False, positive=True)
        bounds: tuple[Fraction, Fraction] | None = None
        raw_range = d.get("range")
        if raw_range is not None:
            rpath = join(path, "range")
            if not isinstance(raw_range, list) or len(raw_range) != 2:
                c.error(rpath, "应为 [下限, 上限] 两个数")
            else:
                lo = c.number_value(raw_range[0], join(rpath, 0))
                hi = c.number_value(raw_range[1], join(rpath, 1))
                if lo is not None and hi is not None:
                    if lo > hi:
                        c.error(rpath, f"下限 {raw_range[0]} 大于上限 {raw_range[1]}")
                    else:
                        bounds = (lo, hi)
        if "amount" in d and raw_range is not None:
            c.error(join(path, "range"), "amount 与 range 只能写一个")
        return Deduction(amount=amount, range=bounds, max=c.number(d, "max", path, required=False))

    def _reports(self, d: dict[str, Any], path: str) -> Reports:
        c = self.c
        periods: list[str] = []
        raw = c.seq(d, "periods", path, required=True)
        if isinstance(d.get("periods"), list) and not raw:
            c.error(join(path, "periods"), "至少需要一种报表周期")
        for n, p in enumerate(raw):
            if p not in ("monthly", "quarterly", "yearly"):
                c.error(
                    join(join(path, "periods"), n),
                    f"应为 monthly / quarterly / yearly，实际为 {p!r}",
                )
            elif p in periods:
                c.error(join(join(path, "periods"), n), f"{p} 重复")
            else:
                periods.append(p)
        amount = c.number(d, "amount", path, required=False)
        return Reports(periods=tuple(periods), amount=amount)

    # ---- whole-scheme checks ------------------------------------------------------------------
    def _cross_check(self, items: list[Item]) -> None:
        c = self.c
        by_id = {i.id: i for i in items}
        index = {i.id: n for n, i in enumerate(items)}
        for item in items:
            path = f"items[{index[item.id]}]"
            if item.shares is not None:
                target = by_id.get(item.shares)
                if target is None:
                    c.error(join(path, "shares"), f"没有编号为 {item.shares!r} 的项目")
                elif target.id == item.id:
                    c.error(join(path, "shares"), "项目不能与自己共用分值")
                elif target.shares is not None:
                    c.error(join(path, "shares"), f"项目 {target.id} 本身也在共用分值，不能再共用")
                elif target.points is None:
                    c.error(join(path, "shares"), f"项目 {target.id} 没有 points，无从共用")
                elif target.bonus:
                    c.error(join(path, "shares"), f"不能与加分项目 {target.id} 共用分值")
            if item.bonus or item.shares is not None or item.points is not None:
                continue
            for n, target in enumerate(item.targets):
                if target.points is None:
                    c.error(
                        f"{path}.targets[{n}].points",
                        f"目标 {target.id} 没有分值，所在项目 {item.id} 也没有 points 或 shares",
                    )
