"""The rules in force: the domain defaults with supervisors' stored overrides applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import select

from console.domain.calendar import WorkingCalendar
from console.domain.materials import DEFAULT_REQUIRED
from console.domain.provinces import PROVINCES, ProvinceRule
from console.domain.sla import DEFAULT_LIMITS, StageLimit, Unit, stage_limit
from console.domain.workflow import State
from console.extensions import db
from console.models import CalendarOverride, CalendarYear, MaterialRuleRow, ProvinceRuleRow, SlaLimitRow


def province_rule(name: str) -> ProvinceRule:
    """The rule in force for one province (defaults where no override is stored)."""
    row = db.session.get(ProvinceRuleRow, name)
    return _apply(PROVINCES[name], row)


def _apply(base: ProvinceRule, row: ProvinceRuleRow | None) -> ProvinceRule:
    if row is None:
        return base
    return base.with_overrides(
        sms_required_from=None if row.sms_never else (row.sms_required_from or base.sms_required_from),
        bureau_limit_days=row.bureau_limit_days or base.bureau_limit_days,
        mailing_required=row.mailing_required,
        mailing_items=tuple(row.mailing_items or base.mailing_items),
        mailing_address=row.mailing_address,
        consistency_required=row.consistency_required,
        required_materials=tuple(row.required_materials or ()),
    )


@dataclass
class Rules:
    """A snapshot of every rule, loaded once for work over many orders."""

    provinces: dict[str, ProvinceRule] = field(default_factory=dict)
    limits: dict[State, StageLimit] = field(default_factory=dict)
    overrides: dict = field(default_factory=dict)
    official_years: set[int] = field(default_factory=set)
    #: subject type -> the material kinds it must upload
    materials: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_REQUIRED))

    @cached_property
    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(self.overrides, self.official_years)

    def limit_for(self, state: State, province: str) -> StageLimit | None:
        return stage_limit(state, self.limits, self.provinces.get(province))


def load_rules() -> Rules:
    rows = {r.province: r for r in db.session.scalars(select(ProvinceRuleRow))}
    limits = dict(DEFAULT_LIMITS)
    for row in db.session.scalars(select(SlaLimitRow)):
        limits[State(row.stage)] = StageLimit(row.limit, Unit(row.unit))
    return Rules(
        provinces={name: _apply(base, rows.get(name)) for name, base in PROVINCES.items()},
        limits=limits,
        overrides={o.day: o.is_workday for o in db.session.scalars(select(CalendarOverride))},
        official_years=set(db.session.scalars(select(CalendarYear.year))),
        materials={**DEFAULT_REQUIRED, **{r.subject_type: tuple(r.kinds) for r in db.session.scalars(
            select(MaterialRuleRow))}},
    )
