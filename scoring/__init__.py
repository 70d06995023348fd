"""Pure scoring core: scheme model and loader, rule kinds, score engine, grades, scheme lint.

Imports nothing else of kaohe and does no I/O except reading scheme/facts files in the loaders.
"""

from scoring.card import render_text, to_dict
from scoring.engine import score
from scoring.errors import FactsError, SchemeError
from scoring.facts import (
    AdminEntry,
    EntryKind,
    Facts,
    Status,
    Submission,
    SubmissionKind,
    Task,
    TaskKind,
)
from scoring.facts_file import facts_from_data, load_facts_file, load_facts_text
from scoring.lint import LintWarning, lint
from scoring.loader import (
    builtin_scheme_ids,
    load_builtin,
    load_scheme,
    load_scheme_file,
    load_scheme_text,
)
from scoring.model import Grading, Item, Rule, Scheme, Target
from scoring.scorecard import BudgetLine, Grade, ItemLine, RuleLine, ScoreCard, TargetLine

__all__ = [
    "AdminEntry",
    "BudgetLine",
    "EntryKind",
    "Facts",
    "FactsError",
    "Grade",
    "Grading",
    "Item",
    "ItemLine",
    "LintWarning",
    "Rule",
    "RuleLine",
    "Scheme",
    "SchemeError",
    "ScoreCard",
    "Status",
    "Submission",
    "SubmissionKind",
    "Target",
    "TargetLine",
    "Task",
    "TaskKind",
    "builtin_scheme_ids",
    "facts_from_data",
    "lint",
    "load_builtin",
    "load_facts_file",
    "load_facts_text",
    "load_scheme",
    "load_scheme_file",
    "load_scheme_text",
    "render_text",
    "score",
    "to_dict",
]
