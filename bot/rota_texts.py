"""German messages of the on-call outbox rows (issue 6), composed when they are sent.

Composing at send time re-checks that the message is still true: an acknowledged page
escalates no further, a handover someone else now takes is not reminded, a closed gap is not
reported. `None` means: cancel the row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot import rota_notice_texts as notices
from bot.formatting import fmt_datetime, fmt_time
from bot.messages import Button, Reply
from bot.rota_common import fmt_span, phone, who
from config.settings import Settings
from scheduler import rota_state
from scheduler.rota import Shift, shift_by_number
from scheduler.rota_notices import CHANGE, CHANGE_NOW, INFO, NOTICE, VOID, WEEK
from scheduler.rota_sweep import (
    GAP,
    HANDOVER,
    OVERRIDE,
    PAGE,
    SWAP,
    RotaSweeper,
    from_stamp,
    handover_confirmed,
)
from storage import rota as store
from storage.models.outbox import OutboxEntry
from storage.models.rota import OncallOverride, OncallSwap, Page, Rotation
from storage.models.staff import Organisation, Staff

ITEM_TYPES = frozenset(
    {PAGE, HANDOVER, GAP, SWAP, OVERRIDE, CHANGE, CHANGE_NOW, NOTICE, WEEK, VOID, INFO}
)


def compose(session: Session, settings: Settings, row: OutboxEntry, now: datetime) -> Reply | None:
    """The message of one on-call outbox row, or None if it is no longer needed."""
    if row.item_type == PAGE:
        return _page(session, settings, row)
    if row.item_type == OVERRIDE:
        return _override(session, settings, row, now)
    if row.item_type == SWAP:
        return _swap(session, settings, row, now)
    if row.item_type in (CHANGE, CHANGE_NOW):
        return notices.change(session, settings, row, now)
    if row.item_type == WEEK:
        return notices.week(session, settings, row, now)
    if row.item_type == VOID:
        return notices.void(session, settings, row)
    if row.item_type == INFO:
        return notices.info(session, settings, row, now)
    rotation = session.get(Rotation, row.item_id)
    if rotation is None:
        return None
    if row.item_type == NOTICE:
        return notices.heads_up(session, settings, rotation, row, now)
    if row.item_type == HANDOVER:
        return _handover(session, settings, rotation, row, now)
    if row.item_type == GAP:
        return _gap(session, settings, rotation, row, now)
    return None


def _page(session: Session, settings: Settings, row: OutboxEntry) -> Reply | None:
    page = session.get(Page, row.item_id)
    if page is None:
        return None
    tz = settings.tz
    caller = session.get(Staff, page.caller_id)
    rotation = session.get(Rotation, page.rotation_id)
    if row.stage == "ack":
        by = session.get(Staff, page.acked_by) if page.acked_by else None
        if page.acked_at is None:
            return None
        return Reply(
            f"✅ Dein Piepser #{page.id} wurde quittiert: {who(by)}, "
            f"{fmt_time(page.acked_at.astimezone(tz))} Uhr"
            + (f". Rückruf ggf. unter {phone(by)}." if by else ".")
        )
    if page.acked_at is not None:
        return None  # acknowledged meanwhile: no escalation, no stale page
    org = None if caller is None else session.get(Organisation, caller.organisation_id)
    head = {
        "l0": "🚨 Notfall-Piepser",
        "l1": f"🚨 Eskalation (zweite Linie): nicht innerhalb von "
        f"{settings.oncall.page_ack_minutes} Minuten quittiert",
        "l2": "🚨 Eskalation an die Koordination: weder Rufbereitschaft noch zweite Linie "
        "haben quittiert",
    }.get(row.stage, "🚨 Notfall-Piepser")
    lines = [
        f"{head} – #{page.id}, {rotation.name if rotation else 'Rufbereitschaft'}",
        f"Von {who(caller)}"
        + (f" ({org.name})" if org else "")
        + (f", {phone(caller)}" if caller else "")
        + f", {fmt_datetime(page.created_at.astimezone(tz))}:",
        f"„{page.text}“",
        f"Bitte quittieren: /quittieren {page.id}",
    ]
    return Reply("\n".join(lines), buttons=(Button("✅ Quittieren", f"/quittieren {page.id}"),))


def _override(
    session: Session, settings: Settings, row: OutboxEntry, now: datetime
) -> Reply | None:
    override = session.get(OncallOverride, row.item_id)
    if override is None or override.cancelled_at is not None or override.ends_at <= now:
        return None
    absent = session.get(Staff, override.absent_staff_id)
    return Reply(
        f"Du vertrittst {who(absent)} in der Rufbereitschaft: "
        f"{fmt_span(override.starts_at, override.ends_at, settings.tz)}. "
        "/rufbereitschaft zeigt deine Dienste; am Beginn bitte /uebergabe_ok."
    )


def _swap(session: Session, settings: Settings, row: OutboxEntry, now: datetime) -> Reply | None:
    swap = session.get(OncallSwap, row.item_id)
    rotation = None if swap is None else session.get(Rotation, swap.rotation_id)
    if swap is None or rotation is None:
        return None
    spec = rota_state.rotation_spec(session, rotation, settings.tz)
    a = shift_by_number(spec, swap.shift_a)
    b = None if swap.shift_b is None else shift_by_number(spec, swap.shift_b)
    if a is None or (swap.shift_b is not None and b is None):
        return None  # the rotation changed meanwhile; the void notice tells
    what = (
        f"{who(session.get(Staff, swap.holder_b))} übernimmt "
        f"{fmt_span(a.start, a.end, settings.tz)} von {who(session.get(Staff, swap.holder_a))}"
    )
    if b is not None:
        what += f", im Tausch gegen {fmt_span(b.start, b.end, settings.tz)}"
    if row.stage == "ask":
        if swap.status != store.PENDING:
            return None
        asker = session.get(Staff, swap.requested_by)
        return Reply(
            f"Tauschanfrage #{swap.id} ({rotation.name}) von {who(asker)}: {what}.\n"
            f"Zustimmen: /tausch_ok {swap.id} · ablehnen: /tausch_nein {swap.id}",
            buttons=(
                Button("✅ Tausch bestätigen", f"/tausch_ok {swap.id}"),
                Button("✖ ablehnen", f"/tausch_nein {swap.id}"),
            ),
        )
    if row.stage == "done":
        if swap.status != store.CONFIRMED:
            return None
        return Reply(f"Tausch #{swap.id} gilt ({rotation.name}): {what}.")
    return Reply(
        f"Tausch #{swap.id} wurde abgelehnt ({rotation.name}): {what} – bleibt, wie es war."
    )


def _shift_of_stage(
    session: Session, settings: Settings, rotation: Rotation, number: int, at: str | None
) -> tuple[rota_state.RotaState, Shift] | None:
    """The rotation around shift `number`, if that shift still begins where the stage says."""
    shift = shift_by_number(rota_state.rotation_spec(session, rotation, settings.tz), number)
    if shift is None or (at is not None and shift.start != from_stamp(at)):
        return None
    state = rota_state.load_state(
        session, rotation, settings.tz, start=shift.start, end=shift.end + timedelta(days=31)
    )
    return state, shift


def _handover(
    session: Session,
    settings: Settings,
    rotation: Rotation,
    row: OutboxEntry,
    now: datetime,
) -> Reply | None:
    kind, _, raw = row.stage.partition(":")
    number, _, at = raw.partition(":")
    found = _shift_of_stage(session, settings, rotation, int(number), at or None)
    if found is None:
        return None
    state, shift = found
    duty = state.duty_at(shift.start)
    if duty is None:
        return None
    holder = state.staff.get(duty.staff_id)
    confirmed = handover_confirmed(session, state.id, shift.number, duty.staff_id)
    span = fmt_span(shift.start, duty.end, settings.tz)
    button = (Button("✅ Übernahme bestätigen", f"/uebergabe_ok {state.id}"),)
    if kind in ("pre", "at"):
        if duty.staff_id != row.staff_id or confirmed or now >= duty.end:
            return None
        when = "Morgen" if kind == "pre" else "Jetzt"
        return Reply(
            f"{when} beginnt deine Rufbereitschaft „{state.rotation.name}“: {span}.\n"
            f"Bitte bestätige die Übernahme: /uebergabe_ok {state.id}",
            buttons=button,
        )
    if confirmed or holder is None:
        return None
    return Reply(
        f"⚠️ Übergabe nicht bestätigt: {who(holder)} hat die Rufbereitschaft "
        f"„{state.rotation.name}“ ({span}) nicht bestätigt. {phone(holder)}. "
        "Bitte nachfassen oder eine Vertretung eintragen (/vertretung)."
    )


def _gap(
    session: Session,
    settings: Settings,
    rotation: Rotation,
    row: OutboxEntry,
    now: datetime,
) -> Reply | None:
    raw_number, _, rest = row.stage.removeprefix("g").partition(":")
    raw_staff, _, at = rest.partition(":")
    number, staff_id = int(raw_number), int(raw_staff or 0)
    found = _shift_of_stage(session, settings, rotation, number, f"20{at}" if at else None)
    if found is None:
        return None
    _, shift = found
    if shift.end <= now:
        return None
    days = timedelta(days=settings.oncall.gap_days)
    state = rota_state.load_state(session, rotation, settings.tz, start=now, end=now + days)
    still = RotaSweeper.gaps_of(session, settings, state, now, now + days)
    gap = next(
        (g for g in still if g.shift.number == number and (g.staff_id or 0) == staff_id), None
    )
    if gap is None:
        return None
    person = state.staff.get(staff_id) or session.get(Staff, staff_id)
    why = (
        f"ist ab {gap.first_day.strftime('%d.%m.%Y')} abwesend"
        if gap.reason == "absent"
        else "ist nicht mehr aktiv"
    )
    handle = person.handle if person else "KÜRZEL"
    last_day = (shift.end - timedelta(seconds=1)).astimezone(settings.tz)
    return Reply(
        f"⚠️ Lücke in der Rufbereitschaft „{state.rotation.name}“: "
        f"{fmt_span(shift.start, shift.end, settings.tz)} – {who(person)} {why}.\n"
        f"Bitte eine Vertretung eintragen, z. B. /vertretung {handle} "
        f"{gap.first_day.strftime('%d.%m.')}-{last_day.strftime('%d.%m.')} durch=KÜRZEL"
    )
