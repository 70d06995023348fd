"""The assessment office's dashboard: Jinja2 templates (autoescaped), one static CSS file, a short
signed session, and pages that read on a phone (WeCom's in-app browser, 390 px wide).

    GET  /dashboard?u=..&e=..&s=..  the signed link from "看板": checked once, sets the session
                                    cookie, redirects to the same page without the signature
    GET  /dashboard                 the tally (headers show the maximum; 待评 where nothing is
                                    assessed yet) and the chart
    GET  /dashboard/unit/{id}       score card with reasons, 责任书, the 自查 checklist,
                                    inspections (findings, 申辩, decisions, evidence),
                                    submissions (bodies, attachments), open items; POST …/grade confirms the final
                                    grade (CSRF token; checked like 定级 in chat)
    GET  /dashboard/review          the review queue; POST approves / returns (CSRF token),
                                    the same ledger rows and notices as chat (handlers.reviewing)
    GET  /dashboard/board           未报 and 红/黄/绿 of every unit
    GET  /dashboard/open            every open item
    GET  /dashboard/file/{sid}/{n}  an attachment of a submission
    GET  /dashboard/evidence/selfcheck/{id}, /dashboard/evidence/inspection/{id}
                                    a file of a 自查 line, of an inspection (office or 申辩)
    GET  /dashboard/static/...      the CSS

Every page but the static files needs a valid, unexpired session of an admin; otherwise 403 with
a page saying why and what to do.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.dashboard import views
from bot.dashboard.session import COOKIE, Clock, Session, SessionRefused, Sessions
from handlers import grading, reviewing
from handlers.assessments import office_of
from handlers.channel import Channel
from handlers.context import office_scope, scheme_of
from handlers.selfcheck import deadline_of
from reminders.board import light_of, owed
from reminders.tick import load_calendar
from scoring import SchemeError
from scoring.periods import end_of_day
from scoring.scorecard import GRADES
from storage import inspection as inspections
from storage import review as queue
from storage import scope, selfcheck
from storage.ledger import get_submission, list_submissions, list_tasks
from storage.models import Role, Submission, Unit
from storage.scope import DEFAULT_ASSESSMENT, scoped
from storage.units import list_units
from tally.build import cn_date
from tally.links import DASHBOARD_PATH, LinkError, verify_dashboard_query
from tally.service import load_tally

log = logging.getLogger(__name__)

AdminCheck = Callable[[str], Awaitable[bool]]
AdminOf = Callable[[str], Awaitable[list[int]]]  # the assessments a user is an admin of
CONFIG_KEY = web.AppKey("dashboard", Any)
HERE = Path(__file__).parent
PAGE_SIZE = 20
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


@dataclass(frozen=True)
class DashboardConfig:
    db: Any
    sessions: Sessions
    secret: str
    is_admin: AdminCheck | None
    timezone: ZoneInfo
    media_dir: Path
    channel: Channel | None
    secure_cookie: bool
    clock: Clock
    admin_of: AdminOf | None = None
    offices: dict[int, str] = field(default_factory=dict)  # assessment → its office's name


def add_dashboard_routes(
    app: web.Application,
    db: Any,
    *,
    secret: str | None,
    is_admin: AdminCheck | None = None,
    timezone: str = "Asia/Shanghai",
    media_dir: str | Path = "media",
    channel: Channel | None = None,
    secure_cookie: bool = False,
    clock: Clock = time.time,
    admin_of: AdminOf | None = None,
) -> None:
    """Register the dashboard on `app`. Without a secret every page is refused (and says why).
    `is_admin(userid)`: whether the signed user may see it (None: the signature is enough).
    `admin_of(userid)`: the assessments (分级考核) the user is an admin of; each page then shows
    one of them (`?a=ID`, default the first) and refuses the others (None: no assessments)."""
    app[CONFIG_KEY] = DashboardConfig(
        db,
        Sessions(secret or "", clock=clock),
        secret or "",
        is_admin,
        ZoneInfo(timezone),
        Path(media_dir),
        channel,
        secure_cookie,
        clock,
        admin_of,
    )
    app.router.add_get(DASHBOARD_PATH, tally_page)
    app.router.add_get(f"{DASHBOARD_PATH}/chart.png", chart_png)
    app.router.add_get(f"{DASHBOARD_PATH}/unit/{{unit_id}}", unit_page)
    app.router.add_post(f"{DASHBOARD_PATH}/unit/{{unit_id}}/grade", grade_post)
    app.router.add_get(f"{DASHBOARD_PATH}/review", review_page)
    app.router.add_post(f"{DASHBOARD_PATH}/review", review_post)
    app.router.add_get(f"{DASHBOARD_PATH}/board", board_page)
    app.router.add_get(f"{DASHBOARD_PATH}/open", open_page)
    app.router.add_get(f"{DASHBOARD_PATH}/file/{{sid}}/{{n}}", file_download)
    app.router.add_get(f"{DASHBOARD_PATH}/evidence/selfcheck/{{id}}", selfcheck_file)
    app.router.add_get(f"{DASHBOARD_PATH}/evidence/inspection/{{id}}", inspection_file)
    app.router.add_static(f"{DASHBOARD_PATH}/static", HERE / "static", name="dashboard_static")


def add_dashboard(
    app: web.Application, db: Any, settings: Any, channel: Channel | None = None
) -> None:
    """The dashboard as `kaohe serve` runs it: secret from KAOHE_DASHBOARD_SECRET, admins from
    KAOHE_ADMINS and members registered with the admin role."""

    async def admin_of(userid: str) -> list[int]:
        from storage.assessments import admin_of as admin_rows
        from storage.scope import DEFAULT_ASSESSMENT
        from storage.units import get_member

        async with db.session() as session:
            member = await get_member(session, userid)
            found = set(await admin_rows(session, userid))
        if userid in settings.admins:
            found.add(DEFAULT_ASSESSMENT)
        if member is not None and member.role == Role.ADMIN and member.active:
            found.add(member.unit.assessment_id if member.unit else DEFAULT_ASSESSMENT)
        return sorted(found)

    async def is_admin(userid: str) -> bool:
        return bool(await admin_of(userid))

    secret = settings.secret("dashboard_secret")
    if not secret:
        log.warning("dashboard: no KAOHE_DASHBOARD_SECRET, every /dashboard page is refused")
    add_dashboard_routes(
        app,
        db,
        secret=secret,
        is_admin=is_admin,
        timezone=settings.timezone,
        media_dir=settings.media_dir,
        channel=channel,
        secure_cookie=str(settings.public_url or "").startswith("https://"),
        admin_of=admin_of,
    )


# --- the guard -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """A request let in: who, which year, as of which day."""

    userid: str
    csrf: str
    year: int
    as_of: date
    today: date
    assessment: int | None = None  # the assessment shown (分级考核); None: no assessments

    def link(self, path: str, **extra: Any) -> str:
        query: dict[str, Any] = {}
        if self.assessment is not None and self.assessment != DEFAULT_ASSESSMENT:
            query["a"] = self.assessment
        if self.year != self.as_of.year or self.as_of != self.today:
            query.update({"year": self.year, "as_of": self.as_of.isoformat()})
        query.update({k: v for k, v in extra.items() if v not in (None, "")})
        return f"{DASHBOARD_PATH}{path}" + (f"?{urlencode(query)}" if query else "")


def _config(request: web.Request) -> DashboardConfig:
    return request.app[CONFIG_KEY]  # type: ignore[no-any-return]


@cache
def _templates() -> Any:
    """The pages' templates (a `jinja2.Environment`), made at the first page: Jinja (~1 MB
    resident) is not loaded by a process that serves no dashboard page."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(("html",), default=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pts"] = views.points
    env.filters["cn_date"] = cn_date
    return env


def render(
    request: web.Request, name: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    text = _templates().get_template(name).render(context)
    response = web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
    response.headers.update(HEADERS)
    return response


def refused(request: web.Request, reason: str) -> web.Response:
    return render(request, "refused.html", {"reason": reason, "view": None}, status=403)


async def _session(request: web.Request) -> Session:
    config = _config(request)
    session = config.sessions.read(request.cookies.get(COOKIE))
    if config.is_admin is not None and not await config.is_admin(session.userid):
        raise SessionRefused("该用户不是考核办管理员")
    return session


def _view(request: web.Request, session: Session) -> View:
    config = _config(request)
    today = datetime.fromtimestamp(config.clock(), UTC).astimezone(config.timezone).date()
    try:
        as_of = date.fromisoformat(request.query["as_of"]) if "as_of" in request.query else today
        year = int(request.query["year"]) if "year" in request.query else as_of.year
    except ValueError:
        raise web.HTTPBadRequest(text="year / as_of 参数格式错误") from None
    if not 2000 <= year <= 2100:
        raise web.HTTPBadRequest(text="year 超出范围")
    return View(session.userid, session.csrf, year, as_of, today)


Page = Callable[[web.Request, View], Awaitable[web.StreamResponse]]


def guarded(handler: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Let in a signed link (once: it becomes the session) or a live session; refuse the rest."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        config = _config(request)
        if request.method == "GET" and "s" in request.query:
            return await _enter(request, config)  # raises the redirect when the link is good
        try:
            session = await _session(request)
            assessment = await _assessment(request, config, session.userid)
        except SessionRefused as exc:
            log.info("dashboard refused %s: %s", request.path, exc.reason)
            return refused(request, exc.reason)
        view = replace(_view(request, session), assessment=assessment)
        # every list and lookup sees this assessment only; notices name its office
        office = await office_of(config.db, assessment, config.offices)
        with scoped(assessment), office_scope(office):
            return await handler(request, view)

    wrapped.__name__ = handler.__name__
    return wrapped


async def _assessment(request: web.Request, config: DashboardConfig, userid: str) -> int | None:
    """The assessment a request is about: `?a=ID` if the user is its admin, else the first they
    admin; SessionRefused for another's."""
    if config.admin_of is None:
        return None
    allowed = await config.admin_of(userid)
    wanted = request.query.get("a", "")
    if not wanted:
        if not allowed:
            raise SessionRefused("该用户不是任何考核的管理员")
        return allowed[0]
    if not wanted.isdigit() or int(wanted) not in allowed:
        raise SessionRefused("您不是该考核的管理员，不能查看其数据")
    return int(wanted)


async def _enter(request: web.Request, config: DashboardConfig) -> web.StreamResponse:
    """The signed link: check it, start the session, go to the same page without it."""
    try:
        userid = verify_dashboard_query(config.secret, request.query, now=config.clock())
    except LinkError as exc:
        return refused(request, exc.reason)
    if config.is_admin is not None and not await config.is_admin(userid):
        return refused(request, "该链接的用户不是考核办管理员")
    rest = {k: v for k, v in request.query.items() if k not in ("u", "e", "s")}
    target = request.path + (f"?{urlencode(rest)}" if rest else "")
    response = web.HTTPSeeOther(target, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE,
        config.sessions.issue(userid),
        max_age=config.sessions.max_age,
        path=DASHBOARD_PATH,
        httponly=True,
        samesite="Lax",
        secure=config.secure_cookie,
    )
    raise response


# --- pages ---------------------------------------------------------------------------------------


async def _tally(request: web.Request, view: View):  # type: ignore[no-untyped-def]
    return await load_tally(_config(request).db, view.year, as_of=view.as_of)


def _base(view: View, tally: Any = None, **more: Any) -> dict[str, Any]:
    state = ""
    if tally is not None:
        state = "部分指标待定，为阶段得分" if tally.pending else "全部指标已定"
    return {"view": view, "state": state, **more}


@guarded
async def tally_page(request: web.Request, view: View) -> web.StreamResponse:
    tally = await _tally(request, view)
    tables = [views.tally_table(st) for st in tally.schemes]
    return render(
        request,
        "tally.html",
        _base(view, tally, title=f"{view.year}年度考核汇总", tables=tables, skipped=tally.skipped),
    )


@guarded
async def chart_png(request: web.Request, view: View) -> web.StreamResponse:
    tally = await _tally(request, view)

    from tally.chart import chart_png as drawn

    data = await asyncio.to_thread(drawn, tally)  # drawn once per tally, then from the cache
    return web.Response(body=data, content_type="image/png", headers={"Cache-Control": "no-store"})


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise web.HTTPNotFound(text="没有这个页面") from None


@guarded
async def unit_page(request: web.Request, view: View) -> web.StreamResponse:
    return await _unit(request, view)


async def _unit(request: web.Request, view: View, message: str = "") -> web.Response:
    config = _config(request)
    unit_id = _int(request.match_info["unit_id"])
    tally = await _tally(request, view)
    row = views.row_of(tally.rows, unit_id)
    if row is None:
        raise web.HTTPNotFound(text="没有这个单位")
    scheme = scheme_of(row.card.scheme_id)
    known_at = end_of_day(view.as_of)
    async with config.db.session() as session:
        subs = await list_submissions(session, unit_id, view.year, known_at=known_at)
        tasks = await list_tasks(
            session, unit_id, view.year, known_at=known_at, include_inactive=True
        )
        sheet = await selfcheck.checklist(session, unit_id, view.year, scheme)
        found = await inspections.list_inspections(session, year=view.year, unit_id=unit_id)
    cards = [
        views.submission_card(sv, scheme)
        for sv in reversed(subs)
        if sv.submission.submitted_at <= known_at
    ]
    opens = views.open_lines(
        [o for o in tally.open_items if o.unit == row.unit], {scheme.id: scheme}, {}
    )
    grade = row.card.grade
    return render(
        request,
        "unit.html",
        _base(
            view,
            tally,
            title=f"{row.unit} · {view.year}年度得分",
            row=row,
            card=row.card,
            grade=grade,
            blocks=views.card_blocks(row.card),
            tasks=views.task_lines([t for t in tasks], view.as_of),
            submissions=cards,
            checklist=views.check_lines(sheet),
            checklist_counts=(
                sheet.filled,
                len(sheet.lines),
                sheet.count(selfcheck.Mark.DONE),
                sheet.count(selfcheck.Mark.PARTLY),
                sheet.count(selfcheck.Mark.NOT),
            ),
            checklist_deadline=deadline_of(scheme, view.year).isoformat(),
            inspections=views.inspection_cards(found, scheme),
            opens=opens,
            final_at=views.when(row.final.at) if row.final else "",
            grades=GRADES,
            message=message,
        ),
    )


@guarded
async def grade_post(request: web.Request, view: View) -> web.StreamResponse:
    """定级 from the unit page: the CSRF token, then the same check and row as chat
    (handlers.grading: above seed 000 第七条 only as a stated exception)."""
    config = _config(request)
    form = await request.post()
    if not Session(view.userid, view.csrf).csrf_ok(str(form.get("csrf", ""))):
        log.warning("dashboard: grade POST by %s without a valid CSRF token", view.userid)
        return refused(request, "表单已失效（校验码不符），请刷新页面后重试")
    level, reason = str(form.get("grade", "")), str(form.get("reason", "")).strip()
    if level not in GRADES:
        return await _unit(request, view, "请选择等次。")
    if not reason:
        return await _unit(request, view, "请写明定级理由。")
    async with config.db.session() as session:
        unit = await session.get(Unit, _int(request.match_info["unit_id"]))
        if unit is not None and not await scope.visible(session, unit.id):
            unit = None  # another assessment's
    if unit is None:
        raise web.HTTPNotFound(text="没有这个单位")
    outcome = await grading.confirm_grade(
        config.db,
        unit,
        view.year,
        level,
        reason=reason,
        actor=view.userid,
        exception=form.get("exception") == "1",
        today=view.today,
        at=datetime.fromtimestamp(config.clock(), UTC),
        retry=grading.RETRY_DASHBOARD,
        channel=config.channel,
    )
    return await _unit(request, view, outcome.text)


@guarded
async def open_page(request: web.Request, view: View) -> web.StreamResponse:
    tally = await _tally(request, view)
    schemes = {s.id: s.scheme for s in tally.schemes}
    units = {r.unit: r.unit_id for r in tally.rows}
    lines = views.open_lines(tally.open_items, schemes, units)
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.category] = counts.get(line.category, 0) + 1
    return render(
        request,
        "open.html",
        _base(view, tally, title=f"{view.year}年度待办事项", lines=lines, counts=counts),
    )


async def _queue(request: web.Request, view: View, message: str = "") -> web.Response:
    config = _config(request)
    unit_id = request.query.get("unit", "")
    page = max(_int(request.query.get("page", "1") or "1"), 1)
    async with config.db.session() as session:
        units = await list_units(session)
        found = await queue.review_queue(
            session,
            unit_id=int(unit_id) if unit_id.isdigit() else None,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        schemes = {u.id: u.scheme_id for u in units}
        cards = []
        for item in found.items:
            sub = item.submission
            assert sub.id is not None
            sv = await get_submission(session, sub.id)
            assert sv is not None
            events = await queue.history(session, sub.id)
            try:
                scheme = scheme_of(schemes.get(sub.unit_id, ""))
            except SchemeError:
                scheme = None
            cards.append(views.submission_card(sv, scheme, item.unit, events))
    pages = max(-(-found.total // PAGE_SIZE), 1)
    return render(
        request,
        "review.html",
        _base(
            view,
            title="待审核",
            cards=cards,
            total=found.total,
            page=found.offset // PAGE_SIZE + 1,
            pages=pages,
            units=units,
            unit_id=unit_id,
            message=message,
        ),
    )


@guarded
async def review_page(request: web.Request, view: View) -> web.StreamResponse:
    return await _queue(request, view)


@guarded
async def review_post(request: web.Request, view: View) -> web.StreamResponse:
    """通过 / 退回 from the dashboard: the CSRF token of the session, then handlers.reviewing."""
    config = _config(request)
    form = await request.post()
    token = str(form.get("csrf", ""))
    session = Session(view.userid, view.csrf)
    if not session.csrf_ok(token):
        log.warning("dashboard: review POST by %s without a valid CSRF token", view.userid)
        return refused(request, "表单已失效（校验码不符），请刷新页面后重试")
    action = str(form.get("action", ""))
    ids = [int(v) for v in form.getall("ids", []) if str(v).isdigit()]
    reason = str(form.get("reason", "")).strip()
    if action not in ("accept", "reject") or not ids:
        return await _queue(request, view, "请先选择要审核的报送。")
    if action == "reject" and not reason:
        return await _queue(request, view, "退回请填写原因，联络员会看到原因。")
    now = datetime.fromtimestamp(config.clock(), UTC)
    decision = await reviewing.decide(
        config.db,
        ids[:100],
        accepted=action == "accept",
        actor=view.userid,
        reason=reason,
        now=now,
        channel=config.channel,
    )
    return await _queue(request, view, reviewing.summary(decision))


@guarded
async def board_page(request: web.Request, view: View) -> web.StreamResponse:
    config = _config(request)
    now = datetime.fromtimestamp(config.clock(), UTC)
    calendar = await load_calendar(config.db, view.today)
    units = await owed(config.db, now, calendar)
    lights = [light_of(u, view.today, calendar) for u in units]
    lines = views.board_lines(lights, view.today, calendar)
    counts = {name: sum(1 for b in lines if b.light == name) for name in ("红", "黄", "绿")}
    return render(
        request,
        "board.html",
        _base(view, title="未报与红黄绿灯", lines=lines, counts=counts, today_page=True),
    )


@guarded
async def file_download(request: web.Request, view: View) -> web.StreamResponse:
    config = _config(request)
    sid, n = _int(request.match_info["sid"]), _int(request.match_info["n"])
    async with config.db.session() as session:
        sub = await session.get(Submission, sid)
        if sub is not None and not await scope.visible(session, sub.unit_id):
            sub = None  # another assessment's
    if sub is None or not 0 <= n < len(sub.attachments):
        raise web.HTTPNotFound(text="没有这个附件")
    return _attachment(config, sub.attachments[n])


@guarded
async def selfcheck_file(request: web.Request, view: View) -> web.StreamResponse:
    async with _config(request).db.session() as session:
        row = await session.get(selfcheck.SelfCheckEntry, _int(request.match_info["id"]))
        if row is not None and not await scope.visible(session, row.unit_id):
            row = None  # another assessment's
    if row is None or row.kind != "file":
        raise web.HTTPNotFound(text="没有这个附件")
    return _attachment(_config(request), row.attachment)


@guarded
async def inspection_file(request: web.Request, view: View) -> web.StreamResponse:
    async with _config(request).db.session() as session:
        row = await session.get(inspections.InspectionEvent, _int(request.match_info["id"]))
        found = await inspections.get_inspection(session, row.inspection_id) if row else None
    if row is None or found is None or row.kind != inspections.EventKind.EVIDENCE.value:
        raise web.HTTPNotFound(text="没有这个附件")
    return _attachment(_config(request), row.attachment)


def _attachment(config: DashboardConfig, attachment: dict[str, Any]) -> web.StreamResponse:
    """A stored file as a download, never from outside the media directory."""
    root = config.media_dir.resolve()
    path = (root / str(attachment.get("file") or "")).resolve()
    if not attachment.get("file") or not path.is_file() or not path.is_relative_to(root):
        raise web.HTTPNotFound(text="附件未能保存，无法下载")
    name = queue.attachment_name(attachment)
    return web.FileResponse(
        path,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(name)}",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


__all__ = ["add_dashboard", "add_dashboard_routes"]
