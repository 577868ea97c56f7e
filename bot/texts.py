"""German texts of the bot that are not tied to one command's data."""

from __future__ import annotations

STRANGER = (
    "Hallo! Diesen Dienst können nur registrierte Mitarbeitende nutzen. "
    "Wenn du eine Einladung hast, schreib /start gefolgt von deinem Einladungscode."
)
NOT_UNDERSTOOD = "Das habe ich nicht verstanden. /hilfe zeigt alle Befehle mit Beispielen."
SORRY = (
    "Entschuldigung, dabei ist ein interner Fehler aufgetreten. Es wurde nichts geändert. "
    "Bitte versuch es später noch einmal; der Fehler wurde protokolliert."
)
PRIVATE_ONLY = (
    "Fall- und Personendaten gibt es nur im persönlichen Chat mit mir. "
    "Hier in der Gruppe beantworte ich /notfall, /ag78 und /hilfe."
)
NOT_ALLOWED = "Das darfst du mit deiner Rolle nicht. /hilfe zeigt, was du tun kannst."
PRIVACY_NOTE = (
    "Datenschutz: Fälle nur mit Aktenzeichen (z. B. HB-2025-017), niemals Namen von "
    "Klient*innen oder Familien eingeben."
)
INVITE_INVALID = (
    "Dieser Einladungscode ist ungültig, abgelaufen oder schon benutzt. "
    "Bitte frag deine Koordination nach einem neuen Code."
)
ALREADY_REGISTERED = (
    "Du bist bereits als {name} ({handle}) registriert. /hilfe zeigt deine Befehle."
)
START_USAGE = "Bitte gib deinen Einladungscode an, z. B.: /start K7QF-3MNA-PX2R"
NO_CASES = "Du hast zurzeit keine offenen Fälle."
NO_DEADLINES = "Keine offenen Fristen. 🎉"
NO_ONCALL = "Es ist keine Rufbereitschaft eingerichtet. Bitte wende dich an deine Koordination."
NO_SESSIONS = "Es sind keine kommenden AG-78-Termine eingetragen."


def too_long(limit: int) -> str:
    return (
        f"Die Nachricht ist zu lang (höchstens {limit} Zeichen). Bitte kürzer fassen; "
        "Freitext brauche ich ohnehin kaum."
    )


def unknown_command(suggestion: str | None = None) -> str:
    """The unknown word is never repeated: without the `/` it may be a client's name (P1)."""
    if suggestion:
        return (
            f"Diesen Befehl kenne ich nicht. Meinst du /{suggestion}? "
            "/hilfe zeigt alle Befehle mit Beispielen."
        )
    return "Diesen Befehl kenne ich nicht. /hilfe zeigt alle Befehle mit Beispielen."


ATTACHMENT_CHART = "die Grafik"


def attachments_failed(what: list[str]) -> str:
    """After a refused sendPhoto/sendDocument: the text came, the files did not."""
    listed = " und ".join(what)
    verb = "konnte" if len(what) == 1 else "konnten"
    return (
        f"Entschuldigung, {listed} {verb} ich gerade nicht senden (Telegram hat sie nicht "
        "angenommen). Der Text oben ist vollständig; schick den Befehl bitte gleich noch "
        "einmal, dann kommt die Datei mit."
    )


INVALID_CHARACTERS = (
    "Die Nachricht enthält Zeichen, die ich nicht verarbeiten kann (etwa Steuerzeichen oder "
    "ein unvollständiges Emoji). Bitte schreib sie noch einmal als normalen Text, z. B. /fristen."
)


def unknown_case(code: str) -> str:
    return (
        f"Einen Fall {code} finde ich nicht (oder er gehört nicht zu deinen Fällen). "
        "/faelle zeigt deine Fälle."
    )
