"""Hours logging (DOMAIN.md H1, H6): log, list, undo."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from bot.commands.common import asks_weekday, audit_change, visible_case
from bot.commands.controlling_closing import check_not_locked
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import CATEGORY_LABEL, MISSED_REASON_LABEL, fmt_date, fmt_date_wd, fmt_hours
from bot.messages import Reply
from bot.parsing.args import split_args
from bot.parsing.dates import looks_like_date, parse_date
from bot.parsing.day_words import WEEKDAY_WORDS
from bot.parsing.durations import looks_like_duration, parse_duration
from bot.parsing.echo import shown
from bot.parsing.keywords import CATEGORY_WORDS, parse_category, parse_missed_reason
from bot.parsing.numbers import parse_count, parse_id
from bot.registry import REGISTRY
from config.enums import HoursCategory, OrgKind
from storage.contracts import contract_of
from storage.hours import entries_between, minutes_on_day, own_entry, same_entry
from storage.models.hours import HoursEntry

_EXAMPLES = (
    "Beispiele:\n"
    "/stunden 1,5 HB-2025-017 (direkt am Klienten, heute)\n"
    "/stunden 1:30 HB-2025-017 gestern\n"
    "/stunden 2 gruppe teilnehmer=6 17.04.\n"
    "/stunden 90 min netzwerk\n"
    "/stunden 1 HB-2025-017 ausfall grund=abgesagt"
)
_CASE_BOUND = {HoursCategory.direct, HoursCategory.missed}


@REGISTRY.command(
    "stunden",
    "hours",
    summary="Stunden erfassen (Dauer, Fall, Kategorie, Datum)",
    example="/stunden 1,5 HB-2025-017 gestern",
    sides={OrgKind.provider},
)
@asks_weekday("stunden")
def log_hours(ctx: Ctx, args: str) -> Reply:
    """Log one hours entry; bounds of H1 are checked before anything is written."""
    positional, options = split_args(args)
    if not positional:
        raise UserError(f"Was möchtest du erfassen? {_EXAMPLES}")
    minutes = None
    day = None
    category = None
    case_token = None
    i = 0
    while i < len(positional):
        token = positional[i]
        nxt = positional[i + 1] if i + 1 < len(positional) else ""
        lowered = token.lower()
        if minutes is None and looks_like_duration(token) and not looks_like_date(token):
            # "90 min", "2 Std." arrive as two tokens
            if nxt and looks_like_duration(f"{token}{nxt}") and not looks_like_duration(nxt):
                minutes, i = parse_duration(f"{token} {nxt}"), i + 2
                continue
            minutes = parse_duration(token)
        elif lowered.replace("_", "-") in CATEGORY_WORDS and category is None:
            category = parse_category(token)
        elif day is None and looks_like_date(token):
            if (
                lowered.rstrip(".,") in WEEKDAY_WORDS
                and looks_like_date(nxt)
                and nxt.lower().rstrip(".,") not in WEEKDAY_WORDS
            ):
                # "Mo 07.04.": a weekday and a date; parse_date checks that they agree (A2)
                day, i = parse_date(f"{token} {nxt}", ctx.today, prefer="past"), i + 2
                continue
            day = parse_date(token, ctx.today, prefer="past")
        elif case_token is None and (any(c.isdigit() for c in token) or token[:1].isupper()):
            case_token = token  # validated as a case code below, which also refuses names
        else:
            raise UserError(f"{shown(token)} verstehe ich hier nicht. {_EXAMPLES}")
        i += 1
    if minutes is None:
        raise UserError(f"Bitte die Dauer angeben. {_EXAMPLES}")
    day = day or ctx.today
    if category is None:
        if case_token is None:
            raise UserError(
                f"Bitte ein Aktenzeichen oder eine Kategorie angeben (gruppe, netzwerk, fallunspezifisch, beratung, ausfall). {_EXAMPLES}"
            )
        category = HoursCategory.direct
    limits = ctx.settings.hours
    if minutes > limits.max_entry_minutes:
        raise UserError(
            f"{fmt_hours(minutes)} in einem Eintrag sind zu viel (höchstens {fmt_hours(limits.max_entry_minutes)}). Bitte aufteilen oder prüfen."
        )
    if day > ctx.today:
        raise UserError(
            f"Der {fmt_date_wd(day)} liegt in der Zukunft. Stunden werden erst nach der Leistung erfasst."
        )
    _check_in_contract_term(ctx, day)
    case = None
    if category in _CASE_BOUND:
        if case_token is None:
            raise UserError(
                f"Für „{CATEGORY_LABEL[category]}“ brauche ich das Aktenzeichen. {_EXAMPLES}"
            )
        case = visible_case(ctx, case_token)
        if day < case.start_date:
            raise UserError(f"Der {fmt_date_wd(day)} liegt vor dem Hilfebeginn von {case.code}.")
    elif case_token is not None:
        raise UserError(
            f"Für „{CATEGORY_LABEL[category]}“ wird kein Aktenzeichen erfasst. Bitte ohne Aktenzeichen eingeben."
        )
    participants = None
    raw_participants = options.pop("teilnehmer", None) or options.pop("tn", None)
    if raw_participants is not None:
        if category is not HoursCategory.group:
            raise UserError("Teilnehmende werden nur bei Gruppenangeboten erfasst.")
        participants = parse_count(
            raw_participants,
            1,
            200,
            "Teilnehmende bitte als Zahl zwischen 1 und 200, z. B. teilnehmer=6.",
        )
    reason = None
    raw_reason = options.pop("grund", None)
    if category is HoursCategory.missed:
        if raw_reason is None:
            raise UserError(
                "Bitte den Grund des Ausfalls angeben: grund=abgesagt, grund=nicht-angetroffen, grund=krank oder grund=sonstiges."
            )
        reason = parse_missed_reason(raw_reason)
    elif raw_reason is not None:
        raise UserError("Einen Grund gibt es nur bei ausgefallenen Terminen (ausfall).")
    if options:
        raise UserError(f"Unbekannte Angabe: {', '.join(sorted(options))[:60]}. {_EXAMPLES}")
    check_not_locked(ctx, day)  # a closed quarter (issue 7): corrections via /korrektur
    already = minutes_on_day(ctx.session, ctx.staff_id, day)
    if already + minutes > limits.max_day_minutes:
        raise UserError(
            f"Am {fmt_date_wd(day)} hast du schon {fmt_hours(already)} erfasst; mit {fmt_hours(minutes)} "
            f"wären es mehr als {fmt_hours(limits.max_day_minutes)} an einem Tag."
        )
    twin = same_entry(
        ctx.session, ctx.staff_id, day, minutes, category, None if case is None else case.id
    )
    entry = HoursEntry(
        staff_id=ctx.staff_id,
        organisation_id=ctx.staff.organisation_id,
        day=day,
        minutes=minutes,
        category=category,
        case_id=None if case is None else case.id,
        participants=participants,
        missed_reason=reason,
        created_at=ctx.now,
    )
    ctx.session.add(entry)
    ctx.session.flush()
    audit_change(
        ctx,
        "log",
        "hours_entry",
        entry.id,
        minutes=minutes,
        category=category.value,
        day=day.isoformat(),
    )
    what = CATEGORY_LABEL[category] + (f" ({MISSED_REASON_LABEL[reason]})" if reason else "")
    extra = f", {participants} Teilnehmende" if participants else ""
    where = f" {case.code}" if case else ""
    day_word = "Heute" if day == ctx.today else "An diesem Tag"
    lines = [
        f"Erfasst #{entry.id}: {fmt_hours(minutes)} {what}{where}{extra} am {fmt_date_wd(day)}. "
        f"{day_word} insgesamt: {fmt_hours(already + minutes)}",
        f"Rückgängig: /stunden_zurueck {entry.id}",
    ]
    if twin is not None:
        # Issue 14: kept (two equal sessions a day happen), but a double send is likelier.
        lines.insert(
            1,
            f"⚠️ Genau so ist am {fmt_date_wd(day)} schon #{twin.id} erfasst. "
            "Falls doppelt eingegeben, bitte zurücknehmen.",
        )
    return Reply("\n".join(lines))


def _check_in_contract_term(ctx: Ctx, day: date) -> None:
    """Issue 14: hours before the contract began count in no quarter; such a day is nearly
    always a wrong year (20.03.2023 for 20.03.2026), so it is refused, not stored silently."""
    contract = contract_of(ctx.session, ctx.staff.organisation_id)
    start = contract.starts_on if contract else ctx.settings.periods.contract_start
    if day < start:
        raise UserError(
            f"Der {fmt_date_wd(day)} liegt vor der Laufzeit der Trägerbudgetvereinbarung "
            f"(ab {fmt_date(start)}); Stunden davor zählen in keinem Quartal. Bitte das Datum "
            "prüfen, vor allem das Jahr."
        )


@REGISTRY.command(
    "meinestunden",
    "myhours",
    summary="Deine Stunden dieser Woche (oder: monat)",
    example="/meinestunden monat",
    sides={OrgKind.provider},
)
def my_hours(ctx: Ctx, args: str) -> Reply:
    """The sender's entries of this week or month, with totals per category."""
    period = args.strip().lower()
    if period in ("", "woche", "week"):
        first, label = ctx.today - timedelta(days=ctx.today.weekday()), "diese Woche"
    elif period in ("monat", "month"):
        first, label = ctx.today.replace(day=1), "diesen Monat"
    else:
        raise UserError("Beispiele: /meinestunden · /meinestunden monat")
    rows = entries_between(ctx.session, ctx.staff_id, first, ctx.today)
    if not rows:
        return Reply(f"Für {label} hast du noch keine Stunden erfasst.")
    totals: dict[HoursCategory, int] = defaultdict(int)
    lines = [f"Deine Stunden {label}:"]
    for entry, code in rows:
        totals[entry.category] += entry.minutes
        where = f" {code}" if code else ""
        reason = entry.missed_reason
        why = f" ({MISSED_REASON_LABEL[reason]})" if reason else ""  # H6, issue 14
        lines.append(
            f"#{entry.id} {fmt_date_wd(entry.day)} {fmt_hours(entry.minutes)} "
            f"{CATEGORY_LABEL[entry.category]}{why}{where}"
        )
    lines.append(
        "Summe: " + " · ".join(f"{CATEGORY_LABEL[c]} {fmt_hours(m)}" for c, m in totals.items())
    )
    return Reply("\n".join(lines))


@REGISTRY.command(
    "stunden_zurueck",
    "stunden_zurück",
    "undo",
    summary="Eigenen Stundeneintrag zurücknehmen (ohne Nummer: den letzten)",
    example="/stunden_zurueck 42",
    sides={OrgKind.provider},
)
def undo_hours(ctx: Ctx, args: str) -> Reply:
    """Withdraw one of the sender's own entries; it stays in the audit log."""
    raw = args.strip().lstrip("#")
    number = (
        parse_id(
            raw,
            "Bitte die Nummer des Eintrags angeben, z. B. /stunden_zurueck 42. /meinestunden zeigt die Nummern.",
        )
        if raw
        else None
    )
    raw = "" if number is None else str(number)
    entry = own_entry(ctx.session, ctx.staff_id, number)
    if entry is None:
        raise UserError(
            f"Einen Eintrag #{raw} von dir finde ich nicht."
            if raw
            else "Du hast keinen Eintrag, der sich zurücknehmen ließe."
        )
    check_not_locked(ctx, entry.day)
    entry.deleted_at = ctx.now
    audit_change(
        ctx, "undo", "hours_entry", entry.id, minutes=entry.minutes, day=entry.day.isoformat()
    )
    return Reply(
        f"Zurückgenommen: #{entry.id} {fmt_hours(entry.minutes)} {CATEGORY_LABEL[entry.category]} am {fmt_date_wd(entry.day)}."
    )
