"""German texts of the on-call notices of issue 15, composed when they are sent: a heads-up
before a shift, a changed next shift, a void swap or override, a takeover, the weekly summary.

Each re-checks that it is still true and still needed; `None` cancels the row.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.formatting import fmt_date, fmt_date_wd, fmt_datetime
from bot.messages import Reply
from bot.rota_common import fmt_span, who
from config.settings import Settings
from scheduler import rota_state
from scheduler.rota import base_holder, wall_clock
from scheduler.rota_duties import Duty
from scheduler.rota_sweep import RotaSweeper, from_stamp
from storage import rota as store
from storage import rota_changes
from storage import rota_queries as queries
from storage.models.outbox import OutboxEntry
from storage.models.rota import OncallChange, OncallOverride, OncallSwap, Rotation, RotationRule
from storage.models.staff import Organisation, Staff

MAX_CHARS = 3500  # one Telegram message holds 4096


def heads_up(
    session: Session, settings: Settings, rotation: Rotation, row: OutboxEntry, now: datetime
) -> Reply | None:
    """`oncall.notice_days` before a shift: its times, while it is still this person's."""
    _, _, at = row.stage.partition(":")
    starts = from_stamp(at)
    if starts <= now:
        return None
    state = rota_state.load_state(
        session, rotation, settings.tz, start=starts, end=starts + timedelta(days=31)
    )
    duty = state.duty_at(starts)
    if duty is None or duty.staff_id != row.staff_id or duty.start != starts:
        return None
    tz = settings.tz
    days = (starts.astimezone(tz).date() - now.astimezone(tz).date()).days
    when = {0: "heute", 1: "morgen", 2: "übermorgen"}.get(days, f"in {days} Tagen")
    note = ""
    if duty.override is not None:
        note = f" (Vertretung für {who(state.staff.get(duty.override.absent))})"
    return Reply(
        f"⏰ Deine Rufbereitschaft „{rotation.name}“ beginnt {when}: "
        f"{fmt_span(duty.start, duty.end, tz)}{note}.\n"
        "Verhindert? /tausch oder /vertretung, die Schichten zeigt /rufbereitschaft."
    )


def change(session: Session, settings: Settings, row: OutboxEntry, now: datetime) -> Reply | None:
    """Someone's next duty changed: what it was, what it is now (the latest change only)."""
    found = session.get(OncallChange, row.item_id)
    if found is None or rota_changes.superseded(session, found):
        return None
    rotation = session.get(Rotation, found.rotation_id)
    if rotation is None:
        return None
    tz = settings.tz
    before = _span(found.before_start, found.before_end, tz)
    after = _span(found.after_start, found.after_end, tz)
    if all(e is None or e <= now for e in (found.before_end, found.after_end)):
        return None  # both long past: nothing left to act on
    return Reply(
        f"🔄 Rufbereitschaft „{rotation.name}“: deine nächste Schicht hat sich geändert "
        f"({_cause(session, settings, found)}).\n"
        f"bisher: {before or 'keine Schicht geplant'}\n"
        f"jetzt: {after or 'keine weitere Schicht geplant'}\n"
        "/rufbereitschaft zeigt alle Schichten."
    )


def void(session: Session, settings: Settings, row: OutboxEntry) -> Reply | None:
    """A swap or an override an edit of the rotation made void."""
    if row.stage == "swap":
        swap = session.get(OncallSwap, row.item_id)
        rotation = None if swap is None else session.get(Rotation, swap.rotation_id)
        if swap is None or rotation is None or swap.status != store.VOID:
            return None
        return Reply(
            f"⚠️ Tausch #{swap.id} („{rotation.name}“) gilt nicht mehr: die Rufbereitschaft "
            "wurde geändert, die getauschten Schichten gibt es so nicht mehr. Die Schichten "
            "zeigt /rufbereitschaft; bei Bedarf bitte neu tauschen (/tausch)."
        )
    override = session.get(OncallOverride, row.item_id)
    if override is None or override.cancelled_at is None:
        return None
    absent = session.get(Staff, override.absent_staff_id)
    substitute = session.get(Staff, override.substitute_staff_id)
    return Reply(
        f"⚠️ Vertretung #{override.id} entfällt: nach der Änderung der Rufbereitschaft hat "
        f"{who(absent)} von {fmt_span(override.starts_at, override.ends_at, settings.tz)} "
        f"keinen Dienst mehr, den {who(substitute)} übernehmen müsste."
    )


def info(session: Session, settings: Settings, row: OutboxEntry, now: datetime) -> Reply | None:
    """Coordinators hear of a takeover (/uebernehmen)."""
    override = session.get(OncallOverride, row.item_id)
    if override is None or override.cancelled_at is not None or override.ends_at <= now:
        return None
    rotation = session.get(Rotation, override.rotation_id) if override.rotation_id else None
    taker = session.get(Staff, override.substitute_staff_id)
    relieved = session.get(Staff, override.absent_staff_id)
    name = rotation.name if rotation else "Rufbereitschaft"
    return Reply(
        f"ℹ️ {who(taker)} hat die Rufbereitschaft „{name}“ übernommen: "
        f"{fmt_span(override.starts_at, override.ends_at, settings.tz)} statt {who(relieved)}."
    )


def week(session: Session, settings: Settings, row: OutboxEntry, now: datetime) -> Reply | None:
    """The coordinators' summary of the coming week: duties, overrides, swaps, gaps."""
    org = session.get(Organisation, row.item_id)
    if org is None:
        return None
    tz = settings.tz
    monday = from_stamp(row.stage.removeprefix("w") + "0000").date()
    start = wall_clock(monday, time(0), tz)
    end = wall_clock(monday + timedelta(days=7), time(0), tz)
    if end <= now:
        return None
    states = [
        s
        for s in rota_state.load_states(session, tz, start=start, end=end)
        if s.rotation.organisation_id == org.id
    ]
    gaps = RotaSweeper.gaps_in(session, settings, states, max(start, now), end)
    blocks: list[str] = []
    for state in states:
        found = state.duties(start, end)
        if not found:
            continue
        lines = [f"{state.rotation.name}:"]
        lines += [f"  {_duty_line(state, d)}" for d in found]
        for gap in gaps.get(state.id, []):
            person = state.staff.get(gap.staff_id or -1)
            why = "abwesend" if gap.reason == "absent" else "nicht mehr aktiv"
            lines.append(
                f"  ⚠️ Lücke: {fmt_span(gap.shift.start, gap.shift.end, tz)} – {who(person)} "
                f"ist {why} (ab {fmt_date(gap.first_day)})"
            )
        pending = [s for s in queries.open_swaps(session, state.id, start) if s.status == "pending"]
        if pending:
            numbers = ", ".join(f"#{s.id}" for s in pending)
            lines.append(f"  offen: Tausch {numbers} wartet auf Bestätigung")
        blocks.append("\n".join(lines))
    if not blocks:
        return None
    head = (
        f"📅 Rufbereitschaft in der Woche {fmt_date_wd(monday)} – "
        f"{fmt_date_wd(monday + timedelta(days=6))} ({org.name}):"
    )
    tail = "Keine Lücken." if not gaps else "Lücken bitte mit /vertretung schließen."
    text, shown = head, 0
    for block in blocks:
        if len(text) + len(block) + len(tail) + 80 > MAX_CHARS:
            break
        text += "\n\n" + block
        shown += 1
    if shown < len(blocks):
        text += f"\n\n… und {len(blocks) - shown} weitere Rufbereitschaften (/rufbereitschaft)."
    return Reply(f"{text}\n\n{tail}")


def _duty_line(state: rota_state.RotaState, duty: Duty) -> str:
    holder = state.staff.get(duty.staff_id)
    note = ""
    if duty.override is not None:
        note = f" (vertritt {who(state.staff.get(duty.override.absent))})"
    elif duty.scheduled != base_holder(state.spec, duty.shift):
        note = " (getauscht)"
    return f"{fmt_span(duty.start, duty.end, state.spec.tz)}: {who(holder)}{note}"


def _cause(session: Session, settings: Settings, found: OncallChange) -> str:
    ref = found.ref_id
    if found.cause in ("edit", "end"):
        rule = session.get(RotationRule, ref) if ref else None
        at = "" if rule is None else fmt_datetime(rule.effective_from.astimezone(settings.tz))
        if found.cause == "end":
            return f"die Rufbereitschaft endet am {at}" if at else "die Rufbereitschaft endet"
        return f"die Rufbereitschaft wurde geändert, gültig ab {at}" if at else "Änderung"
    if found.cause == "swap":
        return f"Tausch #{ref} gilt"
    override = session.get(OncallOverride, ref) if ref else None
    substitute = None if override is None else session.get(Staff, override.substitute_staff_id)
    absent = None if override is None else session.get(Staff, override.absent_staff_id)
    if found.cause == "takeover":
        return f"{who(substitute)} hat übernommen"
    if found.cause == "unoverride":
        return f"Vertretung #{ref} zurückgenommen"
    return f"Vertretung #{ref}: {who(substitute)} vertritt {who(absent)}"


def _span(start: datetime | None, end: datetime | None, tz: ZoneInfo) -> str | None:
    if start is None or end is None:
        return None
    return fmt_span(start, end, tz)
