"""The year-end tally: per scheme one row per unit (points, totals, grades, rank), as Excel, CSV,
a chart and a short chat summary; signed links for the read-only dashboard.

May import `scoring/` and `storage/`; never `bot/` or `handlers/`. Every number comes from
`storage.facts.build_all_facts` + `scoring.score` with the unit's own scheme.

    result = await year_tally(db, 2026, as_of=date.today(), out_dir="exports")
    result.summary_text, result.xlsx_path, result.png_path
"""

from tally.build import (
    Column,
    FinalGradeInfo,
    OpenItem,
    SchemeTally,
    Tally,
    TallyRow,
    TallyUnit,
    build_tally,
    rank_of,
)
from tally.links import (
    LinkError,
    dashboard_link_for,
    sign_dashboard_link,
    verify_dashboard_link,
    verify_dashboard_query,
)
from tally.service import TallyResult, load_tally, summary_text, year_tally

__all__ = [
    "Column",
    "FinalGradeInfo",
    "LinkError",
    "OpenItem",
    "SchemeTally",
    "Tally",
    "TallyResult",
    "TallyRow",
    "TallyUnit",
    "build_tally",
    "dashboard_link_for",
    "load_tally",
    "rank_of",
    "sign_dashboard_link",
    "summary_text",
    "verify_dashboard_link",
    "verify_dashboard_query",
    "year_tally",
]
