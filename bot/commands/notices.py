"""Notices to the Jugendamt (DOMAIN.md C7, issue 14): `/mitteilung CODE [art] TEXT`."""

from __future__ import annotations

from bot import case_notices
from bot.commands.common import audit_change, visible_case
from bot.context import Ctx
from bot.errors import UserError
from bot.messages import Reply
from bot.names import refuse_names
from bot.registry import REGISTRY
from config.enums import CaseStatus, OrgKind
from storage.models.cases import CaseNotice
from storage.models.staff import Staff

_USAGE = (
    "So geht eine Mitteilung an die ASD-Fachkraft des Falls:\n"
    "/mitteilung HB-2025-017 veraenderung Umzug in einen anderen Stadtteil\n"
    "/mitteilung HB-2025-017 gruppenangebot Elterncafé dienstags begonnen\n"
    "(ohne Art: eine Veränderung in der Familie; bitte keine Namen von Klient*innen)"
)


def _who(people: list[Staff]) -> str:
    names = [f"{p.name} ({p.handle})" for p in people]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} und {names[-1]}"


@REGISTRY.command(
    "mitteilung",
    "notice",
    summary="Mitteilung ans Jugendamt: Veränderung in der Familie oder begonnenes Gruppenangebot",
    example="/mitteilung HB-2025-017 veraenderung Umzug in einen anderen Stadtteil",
    sides={OrgKind.provider},
    refusal="Mitteilungen nach C7 schickt der freie Träger; im ASD kommen sie an.",
)
def send_notice(ctx: Ctx, args: str) -> Reply:
    """C7: a short notice to the case's ASD contact, through the outbox; name-checked, audited."""
    code, _, rest = args.strip().partition(" ")
    if not code:
        raise UserError(_USAGE)
    case = visible_case(ctx, code)
    if case.status is CaseStatus.closed:
        raise UserError(f"Der Fall {case.code} ist abgeschlossen.")
    first, _, after = rest.strip().partition(" ")
    kind = case_notices.KIND_WORDS.get(first.lower().strip(".,:"))
    text = " ".join((after if kind else rest).split())
    kind = kind or case_notices.CHANGE
    if not text:
        raise UserError(f"Was soll das Jugendamt erfahren? {_USAGE}")
    if len(text) > case_notices.MAX_CHARS:
        raise UserError(
            f"Die Mitteilung ist zu lang (höchstens {case_notices.MAX_CHARS} Zeichen). Bitte kurz "
            "fassen; Einzelheiten im Bericht oder am Telefon."
        )
    refuse_names(text, where="der Mitteilung")  # bot/names.py: the one name check (P1)
    people = case_notices.recipients(ctx.session, case, ctx.now)
    if not people:
        raise UserError(
            f"Für {case.code} ist im Jugendamt niemand eingetragen, der die Mitteilung bekommen "
            "kann (keine ASD-Fachkraft, keine Koordination). Bitte telefonisch melden."
        )
    notice = CaseNotice(
        case_id=case.id or 0, kind=kind, text=text, sent_by=ctx.staff_id, created_at=ctx.now
    )
    ctx.session.add(notice)
    ctx.session.flush()
    case_notices.queue(ctx.session, ctx.settings, ctx.calendar, notice, people, ctx.now)
    audit_change(
        ctx, "send", "case_notice", notice.id, case=case.code, kind=kind, recipients=len(people)
    )
    return Reply(
        f"Mitteilung #{notice.id} zu {case.code} ({case_notices.KIND_LABEL[kind]}) geht an "
        f"{_who(people)}:\n„{text}“"
    )
