"""Natural typing (issue 14): "hilfe bitte", "meine fristen", "wer hat rufbereitschaft?" mean
the main commands. Only whole phrases from the table count, after dropping polite filler
words: anything else stays unknown, and no word of it is ever repeated (P1)."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-zäöüß0-9]+")

# Words that carry no meaning of their own in a short question or request.
FILLERS = frozenset(
    """bitte bitteschön danke mal doch denn eigentlich gerade grad jetzt heute aktuell
    gerne gern kurz nochmal noch einmal hallo hi hey moin koopbot bot du mir mich ich
    zeig zeige zeigen zeigst sag sage sagst gib gibt liste list und die der das den dem
    ein eine einen sind ist wie was welche welcher welches habe hab hast sehen""".split()
)

_PHRASES: dict[str, str] = {}


def _add(command: str, *phrases: str) -> None:
    for phrase in phrases:
        _PHRASES[phrase] = command


_add("hilfe", "hilfe", "help", "befehle", "kannst", "was kannst", "wie geht", "anleitung", "hilf")
_add(
    "fristen",
    "fristen",
    "frist",
    "meine fristen",
    "offene fristen",
    "termine fristen",
    "überfällig",
    "überfällige fristen",
    "steht an",
    "was steht an",
    "deadlines",
)
_add("faelle", "fälle", "faelle", "meine fälle", "meine faelle", "offene fälle", "fall liste")
_add(
    "notfall",
    "notfall",
    "notdienst",
    "wer notdienst",
    "wer hat notdienst",
    "wer rufbereitschaft",
    "wer hat rufbereitschaft",
    "hat rufbereitschaft",
    "bereitschaft",
    "wer bereitschaft",
    "wer hat bereitschaft",
    "rufbereitschaft jetzt",
    "wer dienst",
    "wer hat dienst",
    "notfallkontakt",
    "notfallnummer",
    "notfall nummer",
    "erreichbar notfall",
)
_add(
    "meinestunden",
    "meine stunden",
    "stunden woche",
    "meine stunden woche",
    "wie viele stunden",
    "wieviele stunden",
    "viele stunden",
    "meine zeiten",
)
_add(
    "ag78",
    "ag78",
    "ag 78",
    "nächste ag78",
    "nächste ag 78",
    "sitzung",
    "nächste sitzung",
    "ag78 termine",
    "ag 78 termine",
)
_add("quartal", "quartal", "mein quartal", "stunden quartal", "quartalsstand")


def natural_command(text: str) -> str | None:
    """The command a short natural phrase means, or None."""
    words = [w for w in _WORD.findall(text.lower()) if w not in FILLERS]
    if not words or len(words) > 4:
        return None
    return _PHRASES.get(" ".join(words))


def only_fillers(args: str) -> bool:
    """`/hilfe bitte`, `fristen bitte!`: arguments that are politeness, not input."""
    if not args.strip():
        return False
    leftover = _WORD.sub(lambda m: "" if m[0] in FILLERS else m[0], args.lower())
    return not re.sub(r"[\s!?.,;:…]+", "", leftover)
