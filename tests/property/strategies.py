"""Hypothesis strategies for chat input: every registered command, odd values in every slot.

The inputs grow with the commands by themselves: each command's own `example` (from the
registry) is the skeleton, and its tokens are kept, dropped, swapped for an edge value of the
same shape or for a name-like word. `EXTRA_KEYS` and `FREE_TEXT` add what an example does not
show; a new command needs an entry only where its example leaves something out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hypothesis import strategies as st

from bot.registry import Command

# Words that look like a client's name. None of them occurs in any text of the bot, nor among
# the demo staff, so a reply that contains one has echoed the input (P1).
NAMES = (
    "Kowalski",
    "Yilmaz",
    "Nowakowska",
    "Schwarzkopf",
    "Leonie",
    "Jannik",
    "Özdemir",
    "Wojcik",
    "Brunhilde",
    "Szymanski",
    "Krzysztof",
    "Ljubica",
    "Mirjam",
    "Quentin",
    "Żaneta",
)
# ... and names no list holds: a capital, then lower-case letters with a q, x, y or j inside,
# which no German word of the bot's replies has in that shape.
GENERATED_NAME = st.from_regex(r"\A[A-Z][a-z]{2}[qxyj][a-z]{2,5}\Z")

NUMBERS = (
    "0",
    "1",
    "12",
    "-1",
    "#3",
    "2147483647",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "1" + "0" * 30,
    "9" * 60,
    "1_0",
    "１２",  # full-width
    "٣",  # Arabic-Indic
    "²",  # superscript: isdigit() but no int()
    "1e5",
    "0x10",
    "NaN",
    "inf",
    "3,5",
)
DATES = (
    "heute",
    "gestern",
    "morgen",
    "Mo",
    "So",
    "17.04.2025",
    "07.04.2025",
    "17.4.",
    "29.02.",
    "29.02.2023",
    "31.04.2025",
    "31.12.9999",
    "01.01.0001",
    "31.12.1999",
    "9999-12-31",
    "0001-01-01",
    "2025-13-01",
    "32.13.",
    "00.00.00",
    "１７.０４.２０２５",
    "١٧.٠٤.٢٠٢٥",
    "Mi 20.03.2023",
    "Mo 20.03.2023",
    "14.04.-18.04.",
    "bis 31.12.9999",
    "bis 18.04.",
)
TIMES = ("9", "09:00", "25:00", "23:59", "9-12", "12-9", "9–16", "0-24", "９:００", "24 Uhr")
DURATIONS = (
    "1,5",
    "1:30",
    "90",
    "min",
    "0",
    ",5",
    "24:00",
    "12,01",
    "99999999999999999999999999999,5",
    "9" * 40 + "h",
    "1.05",
)
CASE_CODES = (
    "HB-2026-011",
    "HB-2026-007",
    "HB-2026-003",
    "HB-2025-041",
    "hb-2026-011",
    "HB-２０２６-０１１",
    "HB-٢٠٢٦-٠١١",
    "HB-2099-001",
    "HB-2026-0" + "1" * 40,
    "Kowalski-2025-1",
)
HANDLES = ("JB", "MK", "LW", "TS", "EL", "TB", "XX", "@JB", "ＪＢ", "jb")
JUNK = (
    "",
    "\ud800",  # a lone surrogate: no UTF-8 exists for it
    "a\udfffb",
    "\x00",
    "\x1b[31m",
    "\u200b",
    "\u202e",
    "🙂",
    "👨‍👩‍👧",
    "ß" * 50,
    '"',
    "„offen",
    "=",
    "==",
    "a=b=c",
    "//",
    "%s%n",
    "{0}",
    "\\",
    "'; DROP TABLE staff; --",
    "x" * 120,
    "\n",
    "alle",
    "loeschen",
)
VALUES = NUMBERS + DATES + TIMES + DURATIONS + CASE_CODES + HANDLES + JUNK

# Option keys an example does not show (per command name).
EXTRA_KEYS: dict[str, tuple[str, ...]] = {
    "fall_neu": ("hilfe", "start", "fk", "jugendamt", "typ", "ks", "berichte"),
    "ag78_neu": ("titel", "link", "beginn"),
    "ag78_verlegen": ("titel", "ort", "themen", "beginn"),
    "ag78_absagen": ("beginn",),
    "rufbereitschaft_neu": ("start", "team", "backup"),
    "vertretung": ("rb", "rufbereitschaft"),
    "abwesend": ("vertreter",),
    "stunden": ("tn", "teilnehmer", "grund"),
    "vertrag": ("laufzeit", "steuerung", "umsteuerung"),
    "hilfeende": ("anschluss",),
}
# Where a command stores a free text on purpose and shows it back (titles, places, a page, a
# rotation's name, one's own name at /start): a name there is the free-text check's business
# (bot/names.py, issue 13), not an echo of a refused input. Positional "*" means all positionals.
FREE_TEXT: dict[str, frozenset[str]] = {
    "ag78_neu": frozenset({"titel", "ort", "link", "themen"}),
    "ag78_verlegen": frozenset({"titel", "ort", "link", "themen"}),
    "korrektur": frozenset({"grund"}),
    "mitteilung": frozenset({"*"}),  # the notice to the ASD, name-checked by bot/names.py
    "anpiepen": frozenset({"*"}),
    "rufbereitschaft_neu": frozenset({"*"}),
    "start": frozenset({"*"}),
}

_KEY = re.compile(r"^([^\W\d_][\w-]*)[=:](.*)$")


@dataclass
class Line:
    """One generated chat line and the name-like words it carries outside free texts."""

    text: str
    names: list[str] = field(default_factory=list)


def example_tokens(command: Command) -> list[list[str]]:
    """The command's examples, each as its tokens without the command word."""
    segments = re.split(r"\s·\s|,\s(?=/)|\s\(|:\s(?=/)", command.example)
    out: list[list[str]] = []
    for segment in segments:
        words = segment.strip().rstrip(")").split()
        if words and words[0].lstrip("/!").lower() in (command.name, *command.aliases):
            out.append(words[1:])
    return out or [[]]


def _keys(command: Command) -> list[str]:
    keys = {m[1] for words in example_tokens(command) for w in words if (m := _KEY.match(w))}
    return sorted(keys | set(EXTRA_KEYS.get(command.name, ())))


@st.composite
def name_word(draw: st.DrawFn) -> str:
    return draw(st.one_of(st.sampled_from(NAMES), GENERATED_NAME))


@st.composite
def command_line(draw: st.DrawFn, command: Command) -> Line:
    """A line for `command`: its example, mutated token by token, plus odd extras."""
    free = FREE_TEXT.get(command.name, frozenset())
    names: list[str] = []

    def value() -> str:
        if draw(st.integers(0, 5)) == 0:
            name = draw(name_word())
            names.append(name)
            return name
        return draw(st.one_of(st.sampled_from(VALUES), st.text(max_size=12)))

    def edge(like: str) -> str:
        """An edge value of the same shape as `like` (a number for a number, ...)."""
        return draw(st.sampled_from(_pool_like(like)))

    tokens: list[str] = []
    for token in draw(st.sampled_from(example_tokens(command))):
        action = draw(st.integers(0, 19))
        m = _KEY.match(token)
        if action < 5:
            tokens.append(token)  # kept: the rest of the line is then well-formed
            continue
        if action < 7:
            continue  # dropped
        before = len(names)
        replacement = edge(m[2] if m else token) if action < 17 else value()
        if (m is not None and m[1] in free) or "*" in free:
            del names[before:]
        tokens.append(f"{m[1]}={_quoted(replacement)}" if m else _quoted(replacement))
    keys = _keys(command)
    for _ in range(draw(st.integers(0, 2))):
        if keys and draw(st.booleans()):
            key = draw(st.sampled_from(keys))
            before = len(names)
            tokens.append(f"{key}={_quoted(value())}")
            if key in free or "*" in free:
                del names[before:]
        else:
            before = len(names)
            tokens.insert(draw(st.integers(0, len(tokens))), _quoted(value()))
            if "*" in free:
                del names[before:]
    word = draw(st.sampled_from((command.name, *command.aliases)))
    word = draw(st.sampled_from(("/", "!", "", "/"))) + word
    if draw(st.integers(0, 9)) == 0:
        word = word.upper()
    return Line(" ".join([word, *tokens]), names)


@st.composite
def free_line(draw: st.DrawFn) -> Line:
    """Anything typed: a sentence with names, junk, no command at all."""
    parts: list[str] = []
    names: list[str] = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            name = draw(name_word())
            names.append(name)
            parts.append(name)
        elif kind == 1:
            parts.append(draw(st.sampled_from(VALUES)))
        else:
            parts.append(draw(st.text(max_size=15)))
    return Line(" ".join(parts), names)


_POOLS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"#?\d+"), NUMBERS),
    (re.compile(r"[A-Z]{1,5}-\d{4}-\d{1,5}"), CASE_CODES),
    (re.compile(r"\d{1,2}(:\d\d)?(-\d{1,2}(:\d\d)?)?"), TIMES + DURATIONS),
    (re.compile(r"[\d.,:]+|\d+\s*(min|h|std)", re.I), DATES + DURATIONS),
    (re.compile(r"(Mo|Di|Mi|Do|Fr|Sa|So|heute|gestern|morgen|bis)", re.I), DATES),
    (re.compile(r"@?[A-Z]{1,3}(,[A-Z]{1,3})*"), HANDLES),
)


def _pool_like(token: str) -> tuple[str, ...]:
    for pattern, pool in _POOLS:
        if pattern.fullmatch(token.strip('"„“')):
            return pool
    return VALUES


def _quoted(text: str) -> str:
    """Values with spaces travel in quotes, as on a phone keyboard."""
    return f'"{text}"' if any(c.isspace() for c in text) and '"' not in text else text


# Most of what matters happens in the private chat; groups get a share of the examples.
PRIVATE = st.sampled_from((True, True, True, True, True, False))
