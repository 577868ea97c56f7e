"""Issue 14, item 18: the README's chat examples work on the demo as loaded, today.

Every example command of the README's command tables runs against a freshly loaded demo
(relative to the real today, as `koopbot chat --demo` loads it), as the first demo person
allowed to use it. None may meet an unknown command, an unknown case or a refusal; examples
that name a number from an earlier answer (#12, #42, …) only need a known command and no error.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot import texts
from bot.core import Bot, build_calendar
from bot.demo import demo_invites, load_demo, load_demo_history
from bot.messages import Incoming, Reply, Sender
from config.settings import Settings
from scheduler.clock import SystemClock
from storage.db import Database

README = Path(__file__).resolve().parents[2] / "README.md"
PEOPLE = ("MK", "JB", "TS", "LW", "EL", "TB")

# What the README's reader has done before (the README's own examples), by example.
BEFORE = {
    "/hpg HB-2025-017 absagen": ["/hpg HB-2025-017 02.06. 10:00"],
    "/hilfeende HB-2025-017 anschluss=nein": ["/fall_schliessen HB-2025-017 30.09.2025"],
    "/abwesend ende": ["/abwesend krank heute"],
}
_ROTA_NORD = (
    '/rufbereitschaft_neu "Rufbereitschaft Nord" mitglieder=MK,JB,TS schicht=woche '
    'uebergabe="Mo 09:00" zweite=naechste'
)
# Numbers that come from an earlier answer, or state a reader creates on the way.
BY_NUMBER = re.compile(
    r"^/(erledigt 12|spaeter 12|vertretung_loeschen 3|tausch_ok 4|tausch_nein|quittieren|"
    r"uebergabe_ok|korrektur 42 loeschen)"
)


def _examples() -> list[str]:
    found: list[str] = []
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = line.split(" | ")
        if not line.startswith("| `/") or len(cells) < 3:
            continue
        found += [c for c in re.findall(r"`(/[^`]+)`", cells[2]) if "…" not in c]
    return list(dict.fromkeys(found))


EXAMPLES = _examples()


@pytest.fixture(scope="module")
def demo_copy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    root = tmp_path_factory.mktemp("readme")
    settings = Settings(data_dir=root / "data")
    db = Database(settings.effective_database_url)
    db.upgrade()
    clock = SystemClock(settings.tz)
    now = clock.now()
    bot = Bot(settings, db, clock)
    with db.session() as session:
        calendar = build_calendar(settings)
        load_demo(session, settings, calendar, now)
        load_demo_history(session, settings, calendar, now)
        codes = {p.handle: c for p, c in demo_invites(session, settings, now)}
    for handle, code in codes.items():
        assert _say(bot, handle, f"/start {code}").text.startswith("Willkommen")
    db.dispose()
    snapshot = root / "demo.db"
    shutil.copy(root / "data" / "koopbot.db", snapshot)
    return settings, snapshot


def _say(bot: Bot, handle: str, text: str) -> Reply:
    sender = Sender("console", f"readme-{handle}", None)
    return bot.handle(Incoming(sender=sender, chat_id=sender.user_id, text=text, private=True))


def test_the_readme_has_many_examples() -> None:
    assert len(EXAMPLES) > 80
    assert "/hpg HB-2025-017 02.06. 10:00" in EXAMPLES


@pytest.mark.parametrize("example", EXAMPLES)
def test_a_readme_example_works_on_the_demo(demo_copy: tuple[Settings, Path], example: str) -> None:
    settings, snapshot = demo_copy
    shutil.copy(snapshot, settings.data_dir / "koopbot.db")
    db = Database(settings.effective_database_url)
    try:
        bot = Bot(settings, db, SystemClock(settings.tz))
        setup = list(BEFORE.get(example, []))
        if " Nord" in example and not example.startswith("/rufbereitschaft_neu"):
            setup.insert(0, _ROTA_NORD)
        tried: list[tuple[str, Reply]] = []
        for handle in PEOPLE:
            for step in setup:
                _say(bot, handle, step)
            reply = _say(bot, handle, example)
            tried.append((handle, reply))
            if not reply.refused:
                break
        answers = "\n".join(f"{h}: {r.text[:200]}" for h, r in tried)
        for _, reply in tried:
            assert "kenne ich nicht" not in reply.text, answers
            assert reply.text != texts.SORRY, answers
        if not BY_NUMBER.match(example):
            assert not tried[-1][1].refused, answers
    finally:
        db.dispose()
