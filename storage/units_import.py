"""The units-and-liaisons import file (DESIGN.md): CSV (UTF-8, with or without BOM) or XLSX with
the header `unit,kind,scheme,userid,name,role`, one row per person, and optionally `status` and
`channel`: `wecom` (企业微信, the default when empty or absent) or `dingtalk` (钉钉 / 浙政钉), the
platform the person is on; a DingTalk staff id is kept as `dingtalk:<id>` (storage/platforms.py).

`parse_units_file` checks the whole file and raises `UnitsFileError` listing every bad line (by its
line number in the file) — then nothing is applied. `apply_units` upserts units and members in one
transaction; importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from scoring.periods import TZ
from storage.audit import audit
from storage.db import Database
from storage.models import Role, UnitKind
from storage.platforms import PLATFORM_NAMES, address
from storage.units import (
    RegistryError,
    UpsertCounts,
    get_unit_by_name,
    has_records,
    upsert_member,
    upsert_unit,
)

HEADER = ("unit", "kind", "scheme", "userid", "name", "role")
OPTIONAL = ("status", "channel")
USERID_MAX = 64  # member.userid, a DingTalk id with its "dingtalk:" prefix included
CHINESE_HEADER = {
    "单位": "unit",
    "类型": "kind",
    "方案": "scheme",
    "账号": "userid",
    "姓名": "name",
    "角色": "role",
    "状态": "status",
    "平台": "channel",
}
STATUSES = {
    "": True,
    "active": True,
    "在岗": True,
    "启用": True,
    "正常": True,
    "inactive": False,
    "停用": False,
    "已停用": False,
    "离岗": False,
}
KINDS = {
    "district": UnitKind.DISTRICT,
    "区": UnitKind.DISTRICT,
    "department": UnitKind.DEPARTMENT,
    "部门": UnitKind.DEPARTMENT,
}
ROLES = {
    "liaison": Role.LIAISON,
    "联络员": Role.LIAISON,
    "leader": Role.LEADER,
    "领导": Role.LEADER,
    "admin": Role.ADMIN,
    "管理员": Role.ADMIN,
    "inspector": Role.INSPECTOR,
    "检查员": Role.INSPECTOR,
}


class UnitsFileError(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class UnitRow:
    line: int
    unit: str
    kind: UnitKind
    scheme: str
    userid: str
    name: str
    role: Role
    active: bool = True


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    for row in reader:
        yield line, row
        line = reader.line_num + 1


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        for n, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield n, ["" if c is None else str(c) for c in cells]
    finally:
        book.close()


def read_rows(path: str | Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every row of a CSV or XLSX file, header included."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return list(_xlsx_rows(path))
        return list(_csv_rows(path.read_bytes()))
    except FileNotFoundError:
        raise UnitsFileError([f"{path}: 文件不存在"]) from None
    except UnicodeDecodeError:
        raise UnitsFileError([f"{path}: 不是 UTF-8 编码的 CSV 文件"]) from None
    except Exception as exc:  # a broken XLSX, an unreadable file
        raise UnitsFileError([f"{path}: 无法读取（{type(exc).__name__}: {exc}）"]) from None


def parse_rows(
    rows: Iterable[tuple[int, list[str]]], scheme_ids: Iterable[str], source: str = "<file>"
) -> list[UnitRow]:
    schemes = set(scheme_ids)
    errors: list[str] = []
    it = iter(rows)
    header_line, header = next(((n, r) for n, r in it if any(c.strip() for c in r)), (0, []))
    names = [c.strip().lstrip("\ufeff") for c in header]
    while names and not names[-1]:
        names.pop()
    names = [CHINESE_HEADER.get(n, n.lower()) for n in names]
    if (
        sorted(n for n in names if n not in OPTIONAL) != sorted(HEADER)
        or len(set(names)) != len(names)
        or any(n not in HEADER + OPTIONAL for n in names)
    ):
        raise UnitsFileError(
            [
                f"{source}:{header_line or 1}: 表头应为{','.join(HEADER)}[,status][,channel]"
                f"（或{','.join(CHINESE_HEADER)}），实际为{','.join(c.strip() for c in header)}"
            ]
        )
    index = {name: names.index(name) for name in names}
    parsed: list[UnitRow] = []
    by_user: dict[str, UnitRow] = {}
    by_unit: dict[str, UnitRow] = {}
    for line, cells in it:
        if not any(c.strip() for c in cells):
            continue
        extra = [c for c in cells[len(names) :] if c.strip()]
        values = {name: (cells[i].strip() if i < len(cells) else "") for name, i in index.items()}
        problems = [f"缺少 {name}" for name in HEADER if not values[name]]
        active = STATUSES.get(values.get("status", "").lower())
        if active is None:
            problems.append(
                f"status 应为空、在岗或停用（active/inactive），实际为 {values['status']!r}"
            )
        platform = PLATFORM_NAMES.get(values.get("channel", "").lower() or "wecom")
        if platform is None:
            problems.append(
                f"channel 应为 wecom/dingtalk（企业微信/钉钉），实际为 {values['channel']!r}"
            )
        if extra:
            problems.append(f"多出的列：{','.join(extra)}")
        kind = KINDS.get(values["kind"].lower()) if values["kind"] else None
        if values["kind"] and kind is None:
            problems.append(f"kind 应为 district/department（区/部门），实际为 {values['kind']!r}")
        role = ROLES.get(values["role"].lower()) if values["role"] else None
        if values["role"] and role is None:
            problems.append(f"role 应为 liaison/leader/admin/inspector，实际为 {values['role']!r}")
        if values["scheme"] and values["scheme"] not in schemes:
            problems.append(
                f"未知的考核方案 {values['scheme']!r}（可用：{', '.join(sorted(schemes))}）"
            )
        if problems or kind is None or role is None or active is None or platform is None:
            errors.append(f"{source}:{line}: {'；'.join(problems)}")
            continue
        userid = address(platform, values["userid"])
        if len(userid) > USERID_MAX:
            errors.append(f"{source}:{line}: userid 过长（最多{USERID_MAX}个字符）：{userid!r}")
            continue
        row = UnitRow(
            line, values["unit"], kind, values["scheme"], userid, values["name"], role, active
        )
        seen = by_user.get(row.userid)
        if seen is not None:
            if (seen.unit, seen.name, seen.role, seen.active) != (
                row.unit,
                row.name,
                row.role,
                row.active,
            ):
                errors.append(
                    f"{source}:{line}: userid {row.userid!r} 已在第{seen.line}行出现，且内容不同"
                )
            continue
        first = by_unit.get(row.unit)
        if first is not None and (first.kind, first.scheme) != (row.kind, row.scheme):
            errors.append(
                f"{source}:{line}: 单位 {row.unit!r} 的 kind/scheme 与第{first.line}行不一致"
            )
            continue
        by_user[row.userid] = row
        by_unit.setdefault(row.unit, row)
        parsed.append(row)
    if errors:
        raise UnitsFileError(errors)
    return parsed


def parse_units_file(path: str | Path, scheme_ids: Iterable[str] | None = None) -> list[UnitRow]:
    """Read and check the whole file. `scheme_ids` defaults to the built-in schemes."""
    if scheme_ids is None:
        from scoring import builtin_scheme_ids

        scheme_ids = builtin_scheme_ids()
    return parse_rows(read_rows(path), scheme_ids, source=Path(path).name)


async def scheme_changes(
    session: AsyncSession, rows: list[UnitRow], year: int
) -> list[tuple[str, str, str]]:
    """(unit, old scheme, new scheme) of every unit the rows move to another scheme while it
    already has records (submissions, tasks, entries) in `year`."""
    out: list[tuple[str, str, str]] = []
    for name, scheme in {r.unit: r.scheme for r in rows}.items():
        unit = await get_unit_by_name(session, name)
        if unit is None or unit.scheme_id == scheme or unit.id is None:
            continue
        if await has_records(session, unit.id, year):
            out.append((name, unit.scheme_id, scheme))
    return out


async def apply_units(
    db: Database, rows: list[UnitRow], *, actor: str, force: bool = False, year: int | None = None
) -> UpsertCounts:
    """Upsert every unit and member of `rows` in one transaction (all or nothing). A unit that
    already has records in `year` (default: this year in Asia/Shanghai) changes scheme only with
    `force`, and the change is written to the audit log as forced; otherwise UnitsFileError."""
    counts = UpsertCounts()
    year = year if year is not None else datetime.now(TZ).year
    async with db.session() as session, session.begin():
        moved = await scheme_changes(session, rows, year)
        if moved and not force:
            raise UnitsFileError(
                [
                    f"{name}：{year}年度已有考核记录，方案不能从{old}改为{new}"
                    "（年中更换方案须加 --force，并记入审计日志）"
                    for name, old, new in moved
                ]
            )
        for name, old, new in moved:
            audit(
                session,
                actor,
                "unit.scheme_change",
                {"unit": name, "before": old, "after": new, "year": year, "forced": True},
            )
        unit_ids: dict[str, int] = {}
        for row in rows:
            if row.unit not in unit_ids:
                try:
                    unit, outcome = await upsert_unit(
                        session, row.unit, row.kind.value, row.scheme, actor=actor
                    )
                except RegistryError as exc:
                    raise UnitsFileError([f"{row.line}: {exc}"]) from None
                assert unit.id is not None
                unit_ids[row.unit] = unit.id
                counts.units[outcome] += 1
            _, outcome = await upsert_member(
                session,
                row.userid,
                row.name,
                row.role.value,
                unit_ids[row.unit],
                actor=actor,
                active=row.active,
            )
            counts.members[outcome] += 1
    return counts


async def import_units_file(
    db: Database,
    path: str | Path,
    *,
    actor: str,
    scheme_ids: Iterable[str] | None = None,
    force: bool = False,
) -> UpsertCounts:
    """Check the whole file, then apply it. Raises UnitsFileError (nothing applied)."""
    return await apply_units(db, parse_units_file(path, scheme_ids), actor=actor, force=force)
