"""Who may manage cases, and whom a case may be assigned to (C6)."""

from __future__ import annotations

import re

from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import STAFF_TYPE_LABEL
from config.enums import OrgKind, Role
from storage.models.cases import Case
from storage.models.staff import Organisation, Staff
from storage.staff import staff_by_handle

CASE_MANAGERS = (
    "Fälle anlegen, schließen und zuweisen dürfen ASD-Fachkräfte und die Koordination des Trägers."
)


def may_manage_cases(role: Role, side: OrgKind) -> bool:
    """ASD staff and provider coordinators manage cases (the Jugendamt initiates the help)."""
    return side is OrgKind.jugendamt or role is Role.coordinator


def _handle_shown(handle: str) -> str:
    """A Kürzel is echoed; anything longer may be a name and is not (P1)."""
    return (
        f"„{handle}“"
        if re.fullmatch(r"@?[A-Za-zÄÖÜäöü]{1,4}\d{0,2}", handle)
        else "dem angegebenen"
    )


def staff_of_side(ctx: Ctx, handle: str, side: OrgKind, what: str) -> Staff:
    """The active staff member with this Kürzel on this side; `what` names the side in German."""
    staff = staff_by_handle(ctx.session, handle)
    org = None if staff is None else ctx.session.get(Organisation, staff.organisation_id)
    if staff is None or org is None or org.kind is not side or not staff.active:
        raise UserError(
            f"Unter dem Kürzel {_handle_shown(handle)} finde ich keine {what}. "
            "Kürzel stehen bei /hilfe der jeweiligen Person."
        )
    return staff


def check_binding_staff_type(case: Case, provider_staff: Staff) -> None:
    """C6: in cases flagged kinderschutzrelevant the Jugendamt's choice of staff type binds."""
    if case.child_protection and provider_staff.staff_type not in (
        None,
        case.recommended_staff_type,
    ):
        raise UserError(
            f"Der Fall {case.code} ist als kinderschutzrelevant gekennzeichnet: Die Empfehlung des "
            f"Jugendamts ({STAFF_TYPE_LABEL[case.recommended_staff_type]}) ist bindend. "
            f"{provider_staff.name} ({provider_staff.handle}) ist "
            f"{STAFF_TYPE_LABEL[provider_staff.staff_type or case.recommended_staff_type]} – "
            "bitte eine passende Person zuweisen."
        )
