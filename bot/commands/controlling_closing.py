"""Hours controlling (issue 7): closing a quarter, which locks its entries, and corrections."""

from __future__ import annotations

from datetime import date

from bot.commands.common import audit_change
from bot.commands.controlling_common import org_name, parse_quarter
from bot.context import Ctx
from bot.controlling_alerts import org_report
from bot.controlling_texts import hours
from bot.errors import UserError
from bot.formatting import CATEGORY_LABEL, fmt_date, fmt_date_wd
from bot.messages import Reply
from bot.names import refuse_names
from bot.parsing.args import split_args
from bot.parsing.durations import parse_duration
from bot.parsing.numbers import parse_id
from bot.registry import REGISTRY
from config.enums import OrgKind, Role
from scheduler.controlling import Quarter
from storage import quarters
from storage.hours import minutes_on_day


@REGISTRY.command(
    "quartal_abschliessen",
    "quartal_abschließen",
    "closequarter",
    summary="Quartal abschließen: Einträge werden gesperrt, Korrekturen nur mit Grund",
    example="/quartal_abschliessen 2025-Q1",
    roles={Role.coordinator},
    sides={OrgKind.provider},
)
def close_quarter(ctx: Ctx, args: str) -> Reply:
    """Lock a quarter that has ended."""
    quarter = parse_quarter(args or "letztes", ctx.today)
    org_id = ctx.staff.organisation_id
    if quarter.last >= ctx.today:
        raise UserError(
            f"{quarter.label} läuft noch (bis {fmt_date_wd(quarter.last)}); abschließen geht erst danach."
        )
    if quarters.closing(ctx.session, org_id, quarter.year, quarter.number) is not None:
        raise UserError(f"{quarter.label} ist bereits abgeschlossen.")
    row = quarters.close_quarter(
        ctx.session,
        org_id,
        quarter.year,
        quarter.number,
        (quarter.first, quarter.last),
        ctx.staff_id,
        ctx.now,
    )
    audit_change(ctx, "close", "quarter_closing", row.id, quarter=quarter.key)
    report = org_report(
        ctx.session,
        ctx.settings,
        ctx.calendar,
        org_id,
        org_name(ctx),
        quarter,
        ctx.today,
        details=False,
    )
    f = report.figures
    return Reply(
        f"{quarter.label} ist abgeschlossen: direkt am Klienten {hours(f.direct_minutes)}, "
        f"insgesamt {hours(f.total_logged_minutes)} erfasst. Einträge vom "
        f"{fmt_date(quarter.first)} bis {fmt_date(quarter.last)} sind gesperrt; "
        "Korrekturen nur über /korrektur mit Grund."
    )


def check_not_locked(ctx: Ctx, day: date) -> None:
    """Refuse a change by staff to a day of a closed quarter (corrections: /korrektur)."""
    if is_locked(ctx, ctx.staff.organisation_id, day):
        raise UserError(
            f"{Quarter.of(day).label} ist abgeschlossen; Einträge vom {fmt_date_wd(day)} sind gesperrt. "
            "Korrekturen macht die Koordination mit /korrektur und Grund."
        )


@REGISTRY.command(
    "korrektur",
    "correction",
    summary="Stundeneintrag korrigieren (auch in abgeschlossenen Quartalen), mit Grund",
    example='/korrektur 42 1,5 grund="Tippfehler" · /korrektur 42 loeschen grund="doppelt"',
    roles={Role.coordinator},
    sides={OrgKind.provider},
)
def correct(ctx: Ctx, args: str) -> Reply:
    """A coordinator changes the duration of an entry or withdraws it; audited with the reason."""
    positional, options = split_args(args)
    usage = '/korrektur 42 1,5 grund="Tippfehler" · /korrektur 42 loeschen grund="doppelt erfasst"'
    reason = (options.pop("grund", None) or "").strip()
    if options or len(positional) < 2:
        raise UserError(f"Beispiele: {usage}")
    raw_id = str(
        parse_id(positional[0], f"Bitte die Nummer des Eintrags angeben. Beispiele: {usage}")
    )
    if not 3 <= len(reason) <= 200:
        raise UserError(
            "Eine Korrektur braucht einen Grund (3 bis 200 Zeichen, ohne Namen von Klient*innen), "
            'z. B. grund="Tippfehler".'
        )
    refuse_names(reason, where="grund=")  # goes into the exports for the Jugendamt
    found = quarters.org_entry(ctx.session, ctx.staff.organisation_id, int(raw_id))
    if found is None or found[0].deleted_at is not None:
        raise UserError(f"Einen gültigen Eintrag #{raw_id} deiner Organisation finde ich nicht.")
    entry, author = found
    action = " ".join(positional[1:]).lower()
    new_minutes: int | None
    if action in ("loeschen", "löschen", "zuruecknehmen", "zurücknehmen", "entfernen"):
        new_minutes = None
    else:
        new_minutes = parse_duration(" ".join(positional[1:]))
        limits = ctx.settings.hours
        if not 0 < new_minutes <= limits.max_entry_minutes:
            raise UserError(
                f"Ein Eintrag hat mehr als 0 und höchstens {hours(limits.max_entry_minutes)}."
            )
        day_total = (
            minutes_on_day(ctx.session, entry.staff_id, entry.day) - entry.minutes + new_minutes
        )
        if day_total > limits.max_day_minutes:
            raise UserError(
                f"Mit {hours(new_minutes)} hätte {author.handle} am {fmt_date_wd(entry.day)} "
                f"mehr als {hours(limits.max_day_minutes)}."
            )
        if new_minutes == entry.minutes:
            raise UserError(f"#{entry.id} hat bereits {hours(new_minutes)}; nichts zu ändern.")
    old = entry.minutes
    correction = quarters.add_correction(
        ctx.session, entry, ctx.staff_id, new_minutes, reason, ctx.now
    )
    locked = is_locked(ctx, entry.organisation_id, entry.day)
    audit_change(
        ctx,
        "correct",
        "hours_entry",
        entry.id,
        correction=correction.id,
        old_minutes=old,
        new_minutes=new_minutes,
        closed_quarter=locked,
        reason=reason,
    )
    what = "zurückgenommen" if new_minutes is None else f"{hours(old)} → {hours(new_minutes)}"
    return Reply(
        f"Korrigiert #{entry.id} ({author.handle}, {fmt_date_wd(entry.day)}, "
        f"{CATEGORY_LABEL[entry.category]}): {what} (Grund: {reason})"
    )


def is_locked(ctx: Ctx, org_id: int, day: date) -> bool:
    """Whether `day` lies in a closed quarter of the organisation (entries are locked)."""
    quarter = Quarter.of(day)
    return quarters.closing(ctx.session, org_id, quarter.year, quarter.number) is not None
