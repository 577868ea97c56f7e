"""The persisted vocabulary of koopbot (standard library only). It sits in `config`, the bottom
layer, so every package can share it and the rules in `scheduler` import nothing of `storage`."""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    provider = "provider"  # freier Träger
    jugendamt = "jugendamt"  # ASD district office (Stadtteilbüro)


class Role(StrEnum):
    caseworker = "caseworker"
    coordinator = "coordinator"


class StaffType(StrEnum):
    fachkraft = "fachkraft"
    semiprofessional = "semiprofessional"


class LegalBasis(StrEnum):
    p27_2 = "27.2"
    p29 = "29"
    p30 = "30"
    p31 = "31"
    p35 = "35"


class CaseStatus(StrEnum):
    open = "open"
    closed = "closed"


class DeadlineKind(StrEnum):
    action_plan = "action_plan"  # Handlungsplan (C1, D1)
    help_plan_review = "help_plan_review"  # Folge-HPG by end of the first help plan (C1, D5)
    report = "report"  # Bericht (C1 periodic D2, C2 before a meeting D3)
    coordination = "coordination"  # Abstimmungsgespräch (C3, D4)
    annual_report = "annual_report"  # provider's yearly report (C5)


class DeadlineStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class MeetingKind(StrEnum):
    hpg = "hpg"
    closing = "closing"


class HoursCategory(StrEnum):
    direct = "direct"
    group = "group"
    non_case = "non_case"
    network = "network"
    informal_advice = "informal_advice"
    missed = "missed"


class MissedReason(StrEnum):
    cancelled_by_family = "cancelled_by_family"
    not_met = "not_met"
    illness = "illness"
    other = "other"


class SessionKind(StrEnum):
    session = "session"
    workshop = "workshop"
