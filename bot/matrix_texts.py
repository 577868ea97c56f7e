"""German texts only the Matrix adapter sends (reactions, edits, unreadable messages)."""

from __future__ import annotations

REACT_HINT = (
    "Reagiere mit ✅, wenn es erledigt ist, oder mit 💤, um morgen wieder erinnert zu werden."
)

EDIT_OF_ANSWERED = (
    "Du hast eine Nachricht bearbeitet, die ich schon beantwortet habe. Bearbeitungen führe "
    "ich nicht noch einmal aus: Bitte schick den geänderten Befehl als neue Nachricht."
)

REACTION_NOT_YOURS = (
    "Diese Frist kann per Reaktion nur die Person abhaken, an die die Nachricht ging. "
    "Deine eigenen Fristen zeigt dir !fristen im Direktchat mit mir."
)


def unreadable(count: int) -> str:
    """The notice for messages koopbot could not decrypt; it never repeats their content."""
    what = "deine Nachricht" if count == 1 else f"{count} deiner Nachrichten"
    return (
        f"Ich konnte {what} nicht lesen: Sie ist verschlüsselt, aber der Schlüssel dafür hat "
        "mich nicht erreicht. Ich habe ihn bei deinem Gerät angefragt und antworte, sobald er "
        "ankommt.\n"
        "Wenn nichts passiert: Bitte schick die Nachricht noch einmal. Hilft das nicht, melde "
        "dich in deiner Matrix-App ab und wieder an oder bestätige dein Gerät "
        "(Einstellungen → Sicherheit), dann schick sie erneut."
    )


def reaction_ambiguous(numbers: list[int], *, snooze: bool) -> str:
    """A reaction on a message that names several deadlines: which one is meant?"""
    command = "/spaeter {} 1" if snooze else "/erledigt {}"
    choices = "\n".join(f"• {command.format(n)}" for n in numbers)
    return (
        "Diese Nachricht nennt mehrere Fristen, die Reaktion ist nicht eindeutig. "
        f"Bitte schreib mir, welche du meinst:\n{choices}"
    )
