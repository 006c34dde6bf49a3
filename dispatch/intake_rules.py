"""What a new case starts as: its default urgency from the hall's intake rules.

One place for the rule, so the hub's intake, the scenario tooling and the benchmarks' seeded
halls agree. Precedence, most specific first: the urgency the intake states; the hall's
per-category override (``intake.category_urgency``); urgent when the source is one the hall
treats as urgent (``intake.urgent_sources``, police-forwarded non-police alerts by default);
else the catalog's default for the category.
"""

from __future__ import annotations

from dispatch.catalog import Catalog, Category
from dispatch.config import IntakeSettings
from dispatch.errors import refuse
from dispatch.models import Source, Urgency


def default_urgency(category: Category, source: Source, rules: IntakeSettings) -> Urgency:
    """The urgency of a new case of ``category`` from ``source`` when the intake names none."""
    override = rules.category_urgency.get(category.code)
    if override is not None:
        return override
    if source in rules.urgent_sources or category.urgent:
        return Urgency.URGENT
    return Urgency.GENERAL


def check_rules(rules: IntakeSettings, catalog: Catalog) -> None:
    """Refuse (``config_invalid``) rules naming categories the catalog lacks, and a source both
    verified on site first and auto-dispatched (a case cannot be sent out before it is seen)."""
    for key, codes in (
        ("category_urgency", list(rules.category_urgency)),
        ("auto_dispatch_categories", list(rules.auto_dispatch_categories)),
    ):
        unknown = sorted(code for code in codes if code not in catalog)
        if unknown:
            raise refuse(
                "config_invalid",
                error=f"intake.{key} names unknown categories: {', '.join(unknown)}",
            )
    both = sorted(set(rules.auto_dispatch_sources) & set(rules.verify_sources))
    if both:
        raise refuse(
            "config_invalid",
            error="intake.auto_dispatch_sources and verify_sources both name " + ", ".join(both),
        )
