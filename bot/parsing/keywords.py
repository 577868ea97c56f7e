"""German words for hours categories, missed reasons, staff types, legal bases and ja/nein."""

from __future__ import annotations

import re
from typing import Final, TypeVar

from bot.errors import UserError
from bot.parsing.echo import shown
from bot.parsing.text import normalized
from config.enums import HoursCategory, LegalBasis, MissedReason, StaffType

_E = TypeVar("_E")


def _keyword(text: str, words: dict[str, _E], what: str, examples: str) -> _E:
    s = normalized(text).rstrip(".").replace("_", "-")
    if s in words:
        return words[s]
    raise UserError(f"{shown(text)} ist keine gültige Angabe für {what}. Möglich: {examples}.")


CATEGORY_WORDS: Final[dict[str, HoursCategory]] = {
    "direkt": HoursCategory.direct,
    "direct": HoursCategory.direct,
    "klient": HoursCategory.direct,
    "fall": HoursCategory.direct,
    "gruppe": HoursCategory.group,
    "gruppenangebot": HoursCategory.group,
    "fallübergreifend": HoursCategory.group,
    "group": HoursCategory.group,
    "fallunspezifisch": HoursCategory.non_case,
    "noncase": HoursCategory.non_case,
    "non-case": HoursCategory.non_case,
    "netzwerk": HoursCategory.network,
    "netzwerkarbeit": HoursCategory.network,
    "network": HoursCategory.network,
    "beratung": HoursCategory.informal_advice,
    "ohne-hze": HoursCategory.informal_advice,
    "ohnehze": HoursCategory.informal_advice,
    "informell": HoursCategory.informal_advice,
    "informal-advice": HoursCategory.informal_advice,
    "ausfall": HoursCategory.missed,
    "ausgefallen": HoursCategory.missed,
    "missed": HoursCategory.missed,
}


def parse_category(text: str) -> HoursCategory:
    """An hours category from a German keyword (direkt, gruppe, netzwerk, ...)."""
    return _keyword(
        text,
        CATEGORY_WORDS,
        "die Kategorie",
        "direkt, gruppe, fallunspezifisch, netzwerk, beratung (ohne HzE), ausfall",
    )


MISSED_REASON_WORDS: Final[dict[str, MissedReason]] = {
    "abgesagt": MissedReason.cancelled_by_family,
    "absage": MissedReason.cancelled_by_family,
    "nicht-angetroffen": MissedReason.not_met,
    "nichtangetroffen": MissedReason.not_met,
    "nicht angetroffen": MissedReason.not_met,
    "na": MissedReason.not_met,
    "krank": MissedReason.illness,
    "krankheit": MissedReason.illness,
    "sonstiges": MissedReason.other,
    "sonstige": MissedReason.other,
    "cancelled-by-family": MissedReason.cancelled_by_family,
    "not-met": MissedReason.not_met,
    "illness": MissedReason.illness,
    "other": MissedReason.other,
}


def parse_missed_reason(text: str) -> MissedReason:
    """Why a session did not happen: abgesagt, nicht-angetroffen, krank, sonstiges."""
    return _keyword(
        text,
        MISSED_REASON_WORDS,
        "den Ausfallgrund",
        "abgesagt, nicht-angetroffen, krank, sonstiges",
    )


STAFF_TYPE_WORDS: Final[dict[str, StaffType]] = {
    "fk": StaffType.fachkraft,
    "fachkraft": StaffType.fachkraft,
    "semi": StaffType.semiprofessional,
    "semiprofessionell": StaffType.semiprofessional,
    "semiprofessional": StaffType.semiprofessional,
}


def parse_staff_type(text: str) -> StaffType:
    """Fachkraft (fk) or semiprofessionell (semi)."""
    return _keyword(text, STAFF_TYPE_WORDS, "die Mitarbeitendenart", "fachkraft (fk), semi")


_BOOL_WORDS: Final[dict[str, bool]] = {
    "ja": True,
    "j": True,
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "nein": False,
    "n": False,
    "no": False,
    "false": False,
    "0": False,
}


def parse_bool(text: str) -> bool:
    """ja/nein (also j/n, yes/no, true/false, 1/0)."""
    return _keyword(text, _BOOL_WORDS, "ja/nein", "ja, nein")


_LEGAL_BASIS_RE = re.compile(
    r"(?:§+\s*)?(\d{2})\s*(?:(?:[.,]|abs\.?|absatz|\()\s*(\d+)\s*\)?)?"
    r"(?:\s*sgb\s*(?:viii|8))?",
    re.ASCII,
)
_LEGAL_BASIS_BY_NUMBER: Final[dict[tuple[str, str | None], LegalBasis]] = {
    ("27", "2"): LegalBasis.p27_2,
    ("29", None): LegalBasis.p29,
    ("30", None): LegalBasis.p30,
    ("31", None): LegalBasis.p31,
    ("35", None): LegalBasis.p35,
}
_LEGAL_BASIS_OPTIONS = "Möglich sind: § 27 Abs. 2, § 29, § 30, § 31, § 35 SGB VIII (z. B. §30)."


def parse_legal_basis(text: str) -> LegalBasis:
    """The legal basis of a help: §30, 30, §27.2, 27 Abs. 2, 27(2)."""
    s = normalized(text)
    m = _LEGAL_BASIS_RE.fullmatch(s)
    if m:
        key = (m[1], m[2])
        if key in _LEGAL_BASIS_BY_NUMBER:
            return _LEGAL_BASIS_BY_NUMBER[key]
        if key == ("27", None):
            raise UserError(
                "§ 27 allein reicht nicht: als ambulante Hilfe wird hier nur § 27 Abs. 2 SGB VIII "
                f"geführt (z. B. 27 Abs. 2 oder §27.2). {_LEGAL_BASIS_OPTIONS}"
            )
    raise UserError(f"{shown(text)} ist keine passende Rechtsgrundlage. {_LEGAL_BASIS_OPTIONS}")
