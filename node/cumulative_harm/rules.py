"""The hub's cumulative-harm rules: five kinds, set in the node's configuration and versioned.

A rule names exactly what it looks at (its kind, a count, a window of days, and for the
categories kind the categories); `evaluate` reads nothing else. The rule set carries a version
the hub raises whenever it changes the rules, so every flag says which rules raised it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from node.errors import DomainError


class RuleError(DomainError):
    """The configuration's cumulative-harm rules are not valid: the message names the rule."""


class Kind(enum.StrEnum):
    AGENCIES = "agencies"  # contacts about the subject from `count` different agencies
    REPEAT = "repeat-contacts"  # `count` contacts about the subject
    ESCALATING = "escalating-rag"  # `count` rated contacts in a row, each rated higher
    HOUSEHOLD = "household"  # `count` contacts about other members of the subject's household
    CATEGORIES = "categories"  # agencies' items of every named category, from `count` agencies


DESCRIPTIONS = {
    Kind.AGENCIES: "contacts about the person from {count} or more different agencies "
    "within {days} days",
    Kind.REPEAT: "{count} or more contacts about the person within {days} days",
    Kind.ESCALATING: "{count} or more contacts in a row, each rated higher than the one before, "
    "within {days} days",
    Kind.HOUSEHOLD: "{count} or more contacts about other members of the person's household "
    "within {days} days",
    Kind.CATEGORIES: "agencies' records of {categories} about the person, from {count} or more "
    "agencies, within {days} days",
}


@dataclass(frozen=True)
class Rule:
    key: str  # stable name, lower-case words and hyphens: a flag is kept per person and rule
    kind: Kind
    count: int
    days: int
    title: str
    categories: tuple[str, ...] = ()  # for Kind.CATEGORIES: agencies' item categories

    @property
    def description(self) -> str:
        names = " and ".join(f"“{c}”" for c in self.categories)
        text = DESCRIPTIONS[self.kind].format(count=self.count, days=self.days, categories=names)
        return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class RuleSet:
    version: int
    rules: tuple[Rule, ...]

    def rule(self, key: str) -> Rule | None:
        return next((r for r in self.rules if r.key == key), None)


DEFAULT_RULES = RuleSet(
    version=1,
    rules=(
        Rule("three-agencies", Kind.AGENCIES, 3, 42, "Three agencies in six weeks"),
        Rule("repeat-contacts", Kind.REPEAT, 3, 365, "Repeat contacts within a year"),
        Rule("rising-rag", Kind.ESCALATING, 2, 90, "Rising RAG rating"),
        Rule("household", Kind.HOUSEHOLD, 2, 90, "Contacts about the household"),
        Rule(
            "missing-and-emergency",
            Kind.CATEGORIES,
            2,
            90,
            "Missing episodes and emergency attendances",
            ("missing episode", "A&E attendance"),  # as the partners' extracts name them
        ),
    ),
)
_KEY = re.compile(r"^[a-z][a-z0-9-]{0,59}$")


def parse_rules(table: Any, path: Path) -> RuleSet:
    """The `[referrals.cumulative_harm]` table: `version` and `[[...rules]]` each with key,
    kind, count, days, title (and categories for the categories kind). Absent: the defaults."""
    where = f"{path}: referrals.cumulative_harm"
    if not isinstance(table, dict):
        raise RuleError(f"{where} must be a table")
    version = table.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RuleError(f"{where}.version must be a whole number from 1, raised at each change")
    entries = table.get("rules", [])
    if not isinstance(entries, list):
        raise RuleError(f"{where}.rules must be a list of tables ([[...rules]])")
    unknown = set(table) - {"version", "rules"}
    if unknown:
        raise RuleError(f"{where}: unknown setting {sorted(unknown)[0]!r}")
    rules: list[Rule] = []
    for index, entry in enumerate(entries):
        rule = _rule(entry, f"{where}.rules[{index}]")
        if any(r.key == rule.key for r in rules):
            raise RuleError(f"{where}.rules[{index}].key {rule.key!r} is used twice")
        rules.append(rule)
    return RuleSet(version, tuple(rules))


def _rule(entry: Any, where: str) -> Rule:
    if not isinstance(entry, dict):
        raise RuleError(f"{where} must be a table")
    unknown = set(entry) - {"key", "kind", "count", "days", "title", "categories"}
    if unknown:
        raise RuleError(f"{where}: unknown setting {sorted(unknown)[0]!r}")
    key = entry.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise RuleError(f"{where}.key must be lower-case letters, digits and hyphens")
    try:
        kind = Kind(entry.get("kind"))
    except ValueError:
        raise RuleError(f"{where}.kind must be one of {', '.join(k.value for k in Kind)}") from None
    count, days = entry.get("count"), entry.get("days")
    if isinstance(count, bool) or not isinstance(count, int) or not 2 <= count <= 50:
        raise RuleError(f"{where}.count must be a whole number 2-50")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 730:
        raise RuleError(f"{where}.days must be a whole number of days 1-730")
    title = entry.get("title", key.replace("-", " ").capitalize())
    if not isinstance(title, str) or not title.strip() or len(title) > 100:
        raise RuleError(f"{where}.title must be text of at most 100 characters")
    categories = entry.get("categories", [])
    if kind is Kind.CATEGORIES:
        if (
            not isinstance(categories, list)
            or not categories
            or not all(isinstance(c, str) and c.strip() for c in categories)
        ):
            raise RuleError(f"{where}.categories must list the agencies' item categories")
    elif categories:
        raise RuleError(f"{where}.categories is only for the kind 'categories'")
    return Rule(key, kind, count, days, title.strip(), tuple(c.strip() for c in categories))
