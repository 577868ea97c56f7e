"""What the hours-controlling commands share: the periods they are asked about, the
organisation they speak of."""

from __future__ import annotations

import re
from datetime import date

from bot.context import Ctx
from bot.errors import UserError
from bot.parsing.echo import shown
from scheduler.controlling import Quarter
from storage import contracts

_PREVIOUS = {"letztes", "letzte", "vorquartal", "vorheriges", "vorjahr", "letzter"}
_CURRENT = {"", "aktuell", "aktuelles", "dieses", "laufend", "laufendes"}
YEAR = re.compile(r"^\d{4}$")
_QUARTER_HELP = "z. B. 2025-Q3, Q3/2025, Q3 (dieses Jahr) oder „letztes“"


def parse_quarter(raw: str, today: date) -> Quarter:
    text = raw.strip().lower().removesuffix(" quartal").strip()
    if text in _CURRENT:
        return Quarter.of(today)
    if text in _PREVIOUS:
        return Quarter.of(today).previous()
    quarter = Quarter.parse(raw, today)
    if quarter is None:
        raise UserError(f"{shown(raw)} ist kein Quartal. Bitte so angeben: {_QUARTER_HELP}.")
    _check_year(quarter.year)
    return quarter


def parse_year(raw: str, today: date) -> int:
    text = raw.strip().lower()
    if text in _CURRENT:
        return today.year
    if text in _PREVIOUS:
        return today.year - 1
    if not YEAR.match(text):
        raise UserError(f"{shown(raw)} ist kein Jahr. Beispiel: /jahr 2025")
    _check_year(int(text))
    return int(text)


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise UserError(f"Das Jahr {year} liegt außerhalb dessen, was ich auswerte (2000–2100).")


def org_name(ctx: Ctx) -> str:
    org = contracts.organisation(ctx.session, ctx.staff.organisation_id)
    return org.name if org is not None else "?"
