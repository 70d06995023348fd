"""The read-only dashboard for the assessment office: the tally table, a unit's score card and
submissions, the open items. Plain server-rendered HTML with a little CSS, no JavaScript.

Admins open it from a signed link ("看板" in chat; `tally.links.sign_dashboard_link`): every page
checks the link's HMAC signature and expiry (and that the user is an admin); unsigned, tampered or
expired links get 403 with a Chinese page saying why. Internal links carry the same signature.

    GET /dashboard                 tally of the year (?year=2026&as_of=2026-11-23), chart
    GET /dashboard/chart.png       the chart of that tally
    GET /dashboard/unit/{id}       one unit: score card (every rule, how it was reached), submissions
    GET /dashboard/open            open items of every unit
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from scoring.numbers import fmt
from scoring.periods import TZ
from tally.build import SchemeTally, Tally, TallyRow
from tally.links import DASHBOARD_PATH, LinkError, verify_dashboard_query
from tally.service import end_of_day, load_tally

log = logging.getLogger(__name__)

AdminCheck = Callable[[str], Awaitable[bool]]
CONFIG_KEY = web.AppKey("dashboard", Any)

CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","Microsoft YaHei","PingFang SC",sans-serif;
margin:0;color:#222;background:#f5f6f8;font-size:14px}
header{background:#1f4e79;color:#fff;padding:12px 24px}
header h1{font-size:20px;margin:0 0 4px}
header .meta{font-size:13px;opacity:.9}
nav{padding:8px 24px;background:#e8eef5;border-bottom:1px solid #cdd8e4}
nav a{margin-right:18px;color:#1f4e79;text-decoration:none;font-weight:600}
main{padding:16px 24px}
section{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:12px 16px;margin-bottom:18px}
h2{font-size:17px;margin:4px 0 10px;color:#1f4e79}
h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid #cfd6de;padding:4px 6px;vertical-align:top}
th{background:#ddebf7;font-weight:600;text-align:center}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.c{text-align:center;white-space:nowrap}
td.u{white-space:nowrap}
tr:nth-child(even) td{background:#fafbfc}
.g-优秀{color:#2e7d32;font-weight:600}.g-良好{color:#1565c0;font-weight:600}
.g-合格{color:#b26a00;font-weight:600}.g-不合格{color:#c62828;font-weight:600}
.badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;margin-left:4px}
.ok{background:#e2efda;color:#2e7d32}.todo{background:#fff3cd;color:#8a6d00}
.muted{color:#777;font-size:12px}
.pending{color:#8a6d00}
img.chart{max-width:100%;height:auto;border:1px solid #dde3ea;background:#fff}
.totals span{display:inline-block;margin-right:22px;font-size:15px}
.totals b{font-size:20px}
.refused{max-width:560px;margin:80px auto;background:#fff;border:1px solid #e0b4b4;border-radius:8px;
padding:24px 32px}
.refused h1{color:#c62828;font-size:22px}
"""


@dataclass(frozen=True)
class DashboardConfig:
    db: Any
    secret: str
    is_admin: AdminCheck | None
    timezone: ZoneInfo


def add_dashboard_routes(
    app: web.Application,
    db: Any,
    *,
    secret: str | None,
    is_admin: AdminCheck | None = None,
    timezone: str = "Asia/Shanghai",
) -> None:
    """Register the dashboard on `app`. Without a secret every page is refused (and says why).
    `is_admin(userid)`: whether the signed user may see it (None: the signature is enough)."""
    app[CONFIG_KEY] = DashboardConfig(db, secret or "", is_admin, ZoneInfo(timezone))
    app.router.add_get(DASHBOARD_PATH, tally_page)
    app.router.add_get(f"{DASHBOARD_PATH}/chart.png", chart_png)
    app.router.add_get(f"{DASHBOARD_PATH}/unit/{{unit_id}}", unit_page)
    app.router.add_get(f"{DASHBOARD_PATH}/open", open_page)


def add_dashboard(app: web.Application, db: Any, settings: Any) -> None:
    """The dashboard as `kaohe serve` runs it: secret from KAOHE_DASHBOARD_SECRET, admins from
    KAOHE_ADMINS and members registered with the admin role."""

    async def is_admin(userid: str) -> bool:
        if userid in settings.admins:
            return True
        from storage.units import get_member

        async with db.session() as session:
            member = await get_member(session, userid)
        return member is not None and member.role == "admin"

    if not settings.dashboard_secret:
        log.warning("dashboard: no KAOHE_DASHBOARD_SECRET, every /dashboard page is refused")
    add_dashboard_routes(
        app, db, secret=settings.dashboard_secret, is_admin=is_admin, timezone=settings.timezone
    )


# --- pages ---------------------------------------------------------------------------------------


def _page(
    title: str, body: str, *, status: int = 200, meta: str = "", nav: str = ""
) -> web.Response:
    html = (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta name='robots' content='noindex'>"
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><div class='meta'>{meta}</div></header>"
        f"{nav}<main>{body}</main></body></html>"
    )
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
        },
    )


def refused(reason: str) -> web.Response:
    body = (
        "<div class='refused'><h1>无权访问</h1>"
        f"<p>{escape(reason)}</p>"
        "<p class='muted'>考核看板仅供考核办管理员查看。请在企业微信中向考核机器人发送“看板”，"
        "获取新的访问链接（链接 30 分钟内有效）。</p></div>"
    )
    return _page("考核看板", body, status=403)


@dataclass(frozen=True)
class View:
    """A verified request: who, which year, as of which day, and the query to carry on."""

    userid: str
    year: int
    as_of: date
    auth: dict[str, str]

    def link(self, path: str, **extra: str) -> str:
        query = {**self.auth, "year": str(self.year), "as_of": self.as_of.isoformat(), **extra}
        return escape(f"{path}?{urlencode(query)}")


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _view(request: web.Request) -> View:
    config: DashboardConfig = request.app[CONFIG_KEY]
    try:
        userid = verify_dashboard_query(config.secret, request.query)
    except LinkError as exc:
        raise Refused(exc.reason) from None
    if config.is_admin is not None and not await config.is_admin(userid):
        raise Refused("该链接的用户不是考核办管理员")
    today = datetime.now(config.timezone).date()
    try:
        as_of = date.fromisoformat(request.query["as_of"]) if "as_of" in request.query else today
        year = int(request.query["year"]) if "year" in request.query else as_of.year
    except ValueError:
        raise web.HTTPBadRequest(text="year / as_of 参数格式错误") from None
    if not 2000 <= year <= 2100:
        raise web.HTTPBadRequest(text="year 超出范围")
    auth = {k: request.query[k] for k in ("u", "e", "s")}
    return View(userid, year, as_of, auth)


def _guarded(handler: Callable[[web.Request, View], Awaitable[web.StreamResponse]]):  # type: ignore[no-untyped-def]
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            view = await _view(request)
        except Refused as exc:
            log.info("dashboard refused %s: %s", request.path, exc.reason)
            return refused(exc.reason)
        return await handler(request, view)

    wrapped.__name__ = handler.__name__
    return wrapped


def _n(value: Decimal | None) -> str:
    return "—" if value is None else fmt(value)


def _grade_html(level: str | None, *, provisional: bool = False) -> str:
    if level is None:
        return "—"
    mark = "（暂定）" if provisional else ""
    return f"<span class='g-{escape(level)}'>{escape(level)}</span>{mark}"


def _nav(view: View) -> str:
    return (
        "<nav>"
        f"<a href='{view.link(DASHBOARD_PATH)}'>汇总</a>"
        f"<a href='{view.link(DASHBOARD_PATH + '/open')}'>待办事项</a>"
        "</nav>"
    )


def _meta(view: View, tally: Tally) -> str:
    state = "部分指标待定，为阶段得分" if tally.pending else "全部指标已定"
    return escape(
        f"{view.year} 年度 · 截至 {view.as_of.isoformat()} · {state} · 查看人 {view.userid}"
    )


def _scheme_table(view: View, st: SchemeTally) -> str:
    heads = [
        "排名",
        "单位",
        *(escape(c.label) for c in st.columns),
        "基本分",
        "加分",
        "总分",
        "建议等次",
        "最终等次",
    ]
    rows = []
    for row in st.rows:
        unit_link = view.link(f"{DASHBOARD_PATH}/unit/{row.unit_id}")
        final = (
            _grade_html(row.final.grade) + "<span class='badge ok'>已确认</span>"
            if row.final is not None
            else "<span class='badge todo'>未确认</span>"
        )
        suggested = row.card.grade
        cells = [
            f"<td class='c'>{row.rank}</td>",
            f"<td class='u'><a href='{unit_link}'>{escape(row.unit)}</a>"
            + ("<span class='muted pending'> 待定</span>" if row.pending else "")
            + "</td>",
            *(f"<td class='n'>{_n(v)}</td>" for v in row.items),
            f"<td class='n'>{_n(row.base_total)}</td>",
            f"<td class='n'>{_n(row.bonus)}</td>",
            f"<td class='n'><b>{_n(row.total)}</b></td>",
            "<td class='c'>"
            + (
                _grade_html(suggested.level, provisional=suggested.provisional)
                if suggested
                else "—"
            )
            + "</td>",
            f"<td class='c'>{final}</td>",
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    counts = "、".join(f"{k} {v}" for k, v in st.grade_counts().items()) or "无等次"
    return (
        f"<section><h2>{escape(st.name)}</h2>"
        f"<p class='muted'>{len(st.rows)} 个单位；等次：{escape(counts)}</p>"
        "<table class='tally'><thead><tr>"
        + "".join(f"<th>{h}</th>" for h in heads)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>"
    )


async def _load(request: web.Request, view: View) -> Tally:
    config: DashboardConfig = request.app[CONFIG_KEY]
    return await load_tally(config.db, view.year, as_of=view.as_of)


@_guarded
async def tally_page(request: web.Request, view: View) -> web.Response:
    tally = await _load(request, view)
    parts = [_scheme_table(view, st) for st in tally.schemes]
    if not tally.schemes:
        parts.append("<section><p>本年度没有可汇总的单位。</p></section>")
    if tally.skipped:
        parts.append(
            "<section><h2>未汇总</h2><p>" + escape("、".join(tally.skipped)) + "</p></section>"
        )
    if tally.schemes:
        parts.append(
            "<section><h2>得分图</h2>"
            f"<img class='chart' alt='各单位总分' src='{view.link(DASHBOARD_PATH + '/chart.png')}'>"
            "</section>"
        )
    return _page(
        f"{view.year} 年度考核汇总", "".join(parts), meta=_meta(view, tally), nav=_nav(view)
    )


@_guarded
async def chart_png(request: web.Request, view: View) -> web.StreamResponse:
    tally = await _load(request, view)

    def draw() -> bytes:
        from tally.chart import draw_chart

        with tempfile.TemporaryDirectory() as tmp:
            return draw_chart(tally, Path(tmp) / "chart.png").read_bytes()

    data = await asyncio.to_thread(draw)
    return web.Response(body=data, content_type="image/png", headers={"Cache-Control": "no-store"})


def _card_html(row: TallyRow) -> str:
    card = row.card
    grade = card.grade
    parts = [
        "<section class='totals'>",
        f"<span>基本分 <b>{_n(card.base_total)}</b> / {_n(card.base_max)}</span>",
        f"<span>加分 <b>{_n(card.bonus)}</b></span>",
        f"<span>总分 <b>{_n(card.total)}</b></span>",
        f"<span>排名 <b>{row.rank}</b></span>",
        "<span>建议等次 "
        + (_grade_html(grade.level, provisional=grade.provisional) if grade else "—")
        + "</span>",
        "<span>最终等次 "
        + (
            _grade_html(row.final.grade) + "<span class='badge ok'>已确认</span>"
            if row.final
            else "<span class='badge todo'>未确认</span>"
        )
        + "</span>",
    ]
    if grade is not None:
        parts.append(f"<p class='muted'>{escape(grade.reason)}</p>")
    if row.final is not None:
        when = row.final.at.astimezone(TZ).strftime("%Y-%m-%d %H:%M")
        parts.append(
            f"<p class='muted'>等次确认：{escape(row.final.actor)} {when}："
            f"{escape(row.final.reason)}</p>"
        )
    parts.append("</section>")
    lines = []
    for item in card.items:
        item_score = "（与 " + escape(item.shares) + " 共用分值）" if item.shares else ""
        if item.score is not None:
            item_score = (
                f"{_n(item.score)} / {_n(item.max)}" if item.max is not None else _n(item.score)
            )
        lines.append(
            f"<tr class='item'><th colspan='3' style='text-align:left'>{escape(item.id)} "
            f"{escape(item.name)}{'（加分）' if item.bonus else ''}</th>"
            f"<th colspan='2'>{item_score}</th></tr>"
        )
        for target in item.targets:
            t_score = (
                f"{_n(target.score)} / {_n(target.points)}" if target.score is not None else ""
            )
            for n, rule in enumerate(target.rules):
                sign = "+" if rule.family == "earn" else "−"
                state = "<span class='badge todo'>待定</span>" if rule.pending else ""
                opens = "".join(f"<div class='muted'>待办：{escape(o)}</div>" for o in rule.open)
                target_cells = (
                    f"<td rowspan='{len(target.rules)}'>{escape(target.id)} {escape(target.name)}"
                    f"<div class='muted'>{t_score}</div></td>"
                    if n == 0
                    else ""
                )
                lines.append(
                    "<tr>"
                    + target_cells
                    + f"<td class='c'>{escape(rule.id)}</td>"
                    + f"<td>{escape(rule.text)}</td>"
                    + f"<td class='n'>{sign}{_n(rule.value)}</td>"
                    + f"<td>{escape(rule.explanation)}{state}{opens}</td>"
                    + "</tr>"
                )
    parts.append(
        "<section><h2>计分明细</h2><table><thead><tr><th>指标</th><th>细则</th><th>内容</th>"
        "<th>得分/扣分</th><th>计分说明</th></tr></thead><tbody>"
        + "".join(lines)
        + "</tbody></table></section>"
    )
    if card.notes:
        parts.append(
            "<section><h2>说明</h2><ul>"
            + "".join(f"<li>{escape(n)}</li>" for n in card.notes)
            + "</ul></section>"
        )
    return "".join(parts)


STATUS_NAMES = {
    "submitted": "待审核",
    "accepted": "已采用",
    "rejected": "未采用",
    "withdrawn": "已撤回",
}


@_guarded
async def unit_page(request: web.Request, view: View) -> web.Response:
    config: DashboardConfig = request.app[CONFIG_KEY]
    try:
        unit_id = int(request.match_info["unit_id"])
    except ValueError:
        raise web.HTTPNotFound(text="没有这个单位") from None
    tally = await _load(request, view)
    row = next((r for r in tally.rows if r.unit_id == unit_id), None)
    if row is None:
        raise web.HTTPNotFound(text="没有这个单位")
    from storage.ledger import list_submissions

    async with config.db.session() as session:
        subs = await list_submissions(session, unit_id, view.year, known_at=end_of_day(view.as_of))
    sub_rows = []
    for sv in subs:
        s = sv.submission
        when = s.submitted_at.astimezone(TZ)
        if when.date() > view.as_of:
            continue
        sub_rows.append(
            "<tr>"
            f"<td class='c'>{when:%Y-%m-%d %H:%M}</td>"
            f"<td class='c'>{escape(s.target)}</td>"
            f"<td class='c'>{escape(s.period or '')}</td>"
            f"<td class='c'>{escape(s.kind)}</td>"
            f"<td>{escape(s.title)}</td>"
            f"<td class='c'>{escape(STATUS_NAMES.get(sv.status.value, sv.status.value))}</td>"
            "</tr>"
        )
    subs_html = (
        f"<section><h2>报送记录（{len(sub_rows)} 条）</h2>"
        + (
            "<table><thead><tr><th>报送时间</th><th>指标</th><th>期次</th><th>类型</th>"
            "<th>标题</th><th>状态</th></tr></thead><tbody>"
            + "".join(sub_rows)
            + "</tbody></table>"
            if sub_rows
            else "<p>暂无报送。</p>"
        )
        + "</section>"
    )
    opens = [o for o in tally.open_items if o.unit == row.unit]
    open_html = (
        f"<section><h2>待办事项（{len(opens)} 项）</h2><ul>"
        + "".join(
            f"<li><b>{escape(o.category)}</b> {escape(o.indicator)} {escape(o.text)}</li>"
            for o in opens
        )
        + "</ul></section>"
        if opens
        else ""
    )
    return _page(
        f"{row.unit} · {view.year} 年度得分",
        _card_html(row) + open_html + subs_html,
        meta=escape(f"{row.card.scheme_name} · 截至 {view.as_of.isoformat()}"),
        nav=_nav(view),
    )


@_guarded
async def open_page(request: web.Request, view: View) -> web.Response:
    tally = await _load(request, view)
    names = {s.id: s.name for s in tally.schemes}
    units = {r.unit: r.unit_id for r in tally.rows}
    counts: dict[str, int] = {}
    for o in tally.open_items:
        counts[o.category] = counts.get(o.category, 0) + 1
    rows = [
        "<tr>"
        f"<td><a href='{view.link(f'{DASHBOARD_PATH}/unit/{units.get(o.unit)}')}'>"
        f"{escape(o.unit)}</a></td>"
        f"<td>{escape(names.get(o.scheme_id, o.scheme_id))}</td>"
        f"<td class='c'>{escape(o.category)}</td>"
        f"<td class='c'>{escape(o.indicator)}</td>"
        f"<td>{escape(o.text)}</td>"
        "</tr>"
        for o in tally.open_items
    ]
    summary = "，".join(f"{k} {v} 项" for k, v in counts.items()) or "没有待办事项"
    body = (
        f"<section><h2>待办事项（共 {len(rows)} 项）</h2><p class='muted'>{escape(summary)}</p>"
        "<table><thead><tr><th>单位</th><th>方案</th><th>类别</th><th>指标</th><th>内容</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></section>"
    )
    return _page(f"{view.year} 年度待办事项", body, meta=_meta(view, tally), nav=_nav(view))
