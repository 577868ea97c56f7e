"""The one check for client names in free text that reaches another person or organisation (P1).

Free text (an AG 78 title, agenda or place; a page; swap, absence and hour notes) goes to
colleagues, to the other side and into calendar feeds that every member organisation
subscribes to. German names a person with a word like "Familie", "Frau" or "Kind" followed by
a capitalised word ("Familie Yilmaz", "Frau K.", "Kind Leon"), so that pattern is refused.
The refusal never repeats the text: it may be a name (P1).

German capitalises every noun, so "Eltern Café" is refused too; the answer says how to write it
instead (with a hyphen, "Eltern-Café" is one word).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Final

from bot.errors import UserError

# Words after which German text names a person, lower case. The abbreviations keep their dot.
NAME_MARKERS: Final = frozenset(
    """
    familie familien fam fam. frau fr. frauen herr herrn hr. herren
    kind kindes kinder kinds mutter mütter vater väter eltern elternteil
    sohn söhne tochter töchter bruder brüder schwester schwestern geschwister
    oma opa omi opi großmutter großvater grossmutter grossvater großeltern grosseltern
    enkel enkelin onkel tante cousin cousine neffe nichte
    stiefvater stiefmutter stiefsohn stieftochter pflegemutter pflegevater pflegekind
    pflegeeltern adoptivmutter adoptivvater kindsmutter kindesmutter kindsvater kindesvater
    klient klientin klienten klientinnen jugendliche jugendlicher jugendlichen
    mädchen baby säugling witwe witwer ehemann ehefrau
    """.split()
)
# Case-sensitive: in lower case "km" is a distance ("12 km Fahrt").
_UPPER_MARKERS: Final = frozenset({"KM", "KV"})  # Kindsmutter, Kindsvater
_OPENING: Final = "„“‚‘«»\"'([{<"
_QUOTES: Final = "“”‘’«»\"')]}>"
_CLOSING: Final = _QUOTES + ".,;:!?"


def names_a_person(text: str) -> bool:
    """True if a marker word is followed, after spaces only, by a capitalised word.

    "Familie Yilmaz", "Frau K.", "Mutter: Frau Y." and "KM Yilmaz" are names; "Familie
    HB-2025-017" (a case code) and "Kinder, Jugendliche" (a list) are not.
    """
    words = text.split()
    for word, following in pairwise(words):
        marker = word.lstrip(_OPENING).rstrip(_QUOTES)
        if marker.endswith(":"):
            marker = marker[:-1]
        if not (marker.lower() in NAME_MARKERS or marker in _UPPER_MARKERS):
            continue
        name = following.lstrip(_OPENING).rstrip(_CLOSING)
        if name[:1].isupper() and not any(c.isdigit() for c in name):
            return True
    return False


def refuse_names(text: str, *, where: str) -> str:
    """`text` unchanged, or a UserError saying `where` (e.g. "themen=") seems to hold a name.

    `where` is our own wording, never the user's: the answer must not echo the text.
    """
    if names_a_person(text):
        raise UserError(
            f"Das sieht aus, als stünde ein Name in {where}. Bitte keine Namen von "
            "Klient*innen oder Familien – nur das Aktenzeichen (z. B. HB-2025-017) und "
            "Einzelheiten am Telefon. Zusammengesetzte Begriffe bitte mit Bindestrich "
            "(z. B. Eltern-Café)."
        )
    return text
