"""One row of a case list, parsed and checked as `/fall_neu` checks its arguments.

Pure: the people and organisations to resolve handles and names against, today's date and
the settings are passed in. A refusal is a UserError whose German text names the column and
never echoes a value that may be a client's name (the parsers of bot/parsing/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta

from bot.case_file import RawRow
from bot.errors import UserError
from bot.parsing.case_codes import parse_case_code
from bot.parsing.dates import parse_date
from bot.parsing.keywords import parse_bool, parse_legal_basis, parse_staff_type
from bot.parsing.times import parse_time
from config.enums import LegalBasis, OrgKind, StaffType
from config.settings import Settings
from storage.case_import import Directory, OrgInfo, StaffInfo

EARLIEST_START = date(2000, 1, 1)
_YEAR_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\.\d{1,2}\.\d{2,4}")
_KUERZEL_RE = re.compile(r"@?[A-ZÄÖÜ]{1,5}\d{0,3}")
_INTERVAL_RE = re.compile(r"(\d{1,3})\s*(?:m|mon|monat|monate|monaten)?\.?")


@dataclass(frozen=True)
class CaseRow:
    """What a row says; None where its cell is empty (an existing case keeps its value)."""

    line: int
    code: str
    legal_basis: LegalBasis
    start_date: date
    provider_org_id: int
    jugendamt_org_id: int
    provider_staff: StaffInfo | None
    asd_staff: StaffInfo | None
    recommended: StaffType | None
    child_protection: bool | None
    report_interval_months: int | None
    next_hpg: tuple[date, time | None] | None


class RowError(UserError):
    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(f"{column}: {message}" if column else message)
        self.column = column


def handle_shown(handle: str) -> str:
    """A Kürzel (upper case, short) is echoed; anything else may be a name and is not (P1)."""
    return f"„{handle}“" if _KUERZEL_RE.fullmatch(handle) else "dem angegebenen Kürzel"


def _full_date(text: str, today: date, column: str) -> date:
    """A date with its year: a file is read on another day than it was written."""
    day_part = text.split()[0] if text.split() else text
    if not _YEAR_RE.fullmatch(day_part):
        raise RowError(column, "Bitte ein vollständiges Datum mit Jahr angeben, z. B. 03.03.2025.")
    try:
        return parse_date(day_part, today, prefer="past")
    except UserError as exc:
        raise RowError(column, str(exc)) from None


def _staff(directory: Directory, handle: str, side: OrgKind, column: str) -> StaffInfo:
    person = directory.staff.get(handle.strip().lstrip("@").upper())
    what = "Mitarbeiterin eines freien Trägers" if side is OrgKind.provider else "ASD-Fachkraft"
    if person is None or person.org_kind is not side or not person.active:
        raise RowError(
            column,
            f"Unter {handle_shown(handle.strip())} finde ich keine aktive {what}.",
        )
    return person


def _org(
    directory: Directory,
    name: str | None,
    person: StaffInfo | None,
    side: OrgKind,
    column: str,
) -> int:
    what = "Träger" if side is OrgKind.provider else "ASD-Büro"
    if name is None:
        if person is None:
            raise RowError(column, f"Es fehlt der {what} (oder das Kürzel der zuständigen Person).")
        return person.organisation_id
    org: OrgInfo | None = directory.orgs.get(" ".join(name.split()).lower())
    if org is None or org.kind is not side:
        # The name is not echoed: a wrong column could hold a client's name.
        raise RowError(
            column,
            f"Einen {what} dieses Namens gibt es nicht. Organisationen legt "
            f"`koopbot org add NAME --kind {side.value}` an.",
        )
    if person is not None and person.organisation_id != org.id:
        raise RowError(
            column,
            f"{handle_shown(person.handle)} gehört nicht zu diesem {what}.",
        )
    return org.id


def _interval(text: str, settings: Settings) -> int:
    m = _INTERVAL_RE.fullmatch(text.strip().lower())
    if m is None:
        raise RowError("berichtsintervall", "Bitte die Monate als Zahl angeben, z. B. 3.")
    months = int(m[1])
    default = settings.periods.report_interval_months
    if not 1 <= months <= default:
        raise RowError(
            "berichtsintervall",
            f"Das Berichtsintervall darf zwischen 1 und {default} Monaten liegen.",
        )
    return months


def _hpg(text: str, today: date, start: date) -> tuple[date, time | None]:
    parts = text.split()
    day = _full_date(parts[0], today, "naechstes_hpg")
    at = None
    if len(parts) > 2 or (len(parts) == 2 and parts[1].lower() == "uhr"):
        raise RowError("naechstes_hpg", "Bitte so angeben: 02.06.2025 oder 02.06.2025 10:00.")
    if len(parts) == 2:
        try:
            at = parse_time(parts[1])
        except UserError as exc:
            raise RowError("naechstes_hpg", str(exc)) from None
    if day < today:
        raise RowError(
            "naechstes_hpg",
            "Das nächste HPG liegt in der Vergangenheit; bitte ein kommendes Datum.",
        )
    if day < start:
        raise RowError("naechstes_hpg", "Das nächste HPG liegt vor dem Hilfebeginn.")
    return day, at


def parse_row(row: RawRow, directory: Directory, settings: Settings, today: date) -> CaseRow:
    """The row's case; RowError (German, with the column) when it cannot be imported."""
    v = row.values
    if row.surplus:
        raise RowError(None, "Die Zeile hat mehr Werte als die erste Zeile Spalten.")
    for column in ("aktenzeichen", "rechtsgrundlage", "hilfebeginn"):
        if column not in v:
            raise RowError(column, "Der Wert fehlt.")
    try:
        code = parse_case_code(v["aktenzeichen"], settings.case_code_pattern)
    except UserError as exc:
        raise RowError("aktenzeichen", str(exc)) from None
    try:
        basis = parse_legal_basis(v["rechtsgrundlage"])
    except UserError as exc:
        raise RowError("rechtsgrundlage", str(exc)) from None
    start = _full_date(v["hilfebeginn"], today, "hilfebeginn")
    if start < EARLIEST_START or start > today + timedelta(days=366):
        raise RowError(
            "hilfebeginn",
            "Der Hilfebeginn muss zwischen 2000 und einem Jahr nach heute liegen.",
        )
    provider_staff = (
        _staff(directory, v["fachkraft_traeger"], OrgKind.provider, "fachkraft_traeger")
        if "fachkraft_traeger" in v
        else None
    )
    asd_staff = (
        _staff(directory, v["fachkraft_asd"], OrgKind.jugendamt, "fachkraft_asd")
        if "fachkraft_asd" in v
        else None
    )
    provider_org = _org(directory, v.get("traeger"), provider_staff, OrgKind.provider, "traeger")
    asd_org = _org(directory, v.get("asd"), asd_staff, OrgKind.jugendamt, "asd")
    recommended = None
    if "empfehlung" in v:
        try:
            recommended = parse_staff_type(v["empfehlung"])
        except UserError as exc:
            raise RowError("empfehlung", str(exc)) from None
    child = None
    if "kinderschutz" in v:
        try:
            child = parse_bool(v["kinderschutz"])
        except UserError as exc:
            raise RowError("kinderschutz", str(exc)) from None
    interval = _interval(v["berichtsintervall"], settings) if "berichtsintervall" in v else None
    hpg = _hpg(v["naechstes_hpg"], today, start) if "naechstes_hpg" in v else None
    return CaseRow(
        line=row.line,
        code=code,
        legal_basis=basis,
        start_date=start,
        provider_org_id=provider_org,
        jugendamt_org_id=asd_org,
        provider_staff=provider_staff,
        asd_staff=asd_staff,
        recommended=recommended,
        child_protection=child,
        report_interval_months=interval,
        next_hpg=hpg,
    )
