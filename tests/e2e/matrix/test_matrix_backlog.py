"""Backlog exactly once: 20 messages sent while `koopbot run` is down; koopbot killed (SIGKILL)
or stopped (SIGTERM) right after its first answer; restarted: every message answered once,
every command's effect there once. Also: quiet logs without secrets."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
from people import WAIT, Person
from synapse_server import Account, Synapse

from tests.e2e.driver import KOOPBOT, Installation
from tests.logcheck import assert_no_secrets

CASE = "HB-2026-007"
QUESTIONS = ["!notfall", "!ag78", "!faelle", "!fristen", "!hilfe"]
HOURS = f"!stunden 0,25 {CASE}"  # has an effect: one hours entry of 15 minutes each


class KoopbotRun:
    """`koopbot run` with only the Matrix service, as a real process."""

    def __init__(self, koopbot: Installation, account: Account, homeserver: str) -> None:
        self.koopbot = koopbot
        self.env = {
            **koopbot.env,
            "KOOPBOT_SERVICES": "[]",
            "KOOPBOT_MATRIX__HOMESERVER": homeserver,
            "KOOPBOT_MATRIX__USER_ID": account.user_id,
            "KOOPBOT_MATRIX__PASSWORD": account.password,
            "KOOPBOT_MATRIX__SYNC_TIMEOUT_MS": "5000",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0

    def start(self) -> None:
        assert self.process is None
        self.runs += 1
        log = open(self.koopbot.root / f"run-{self.runs}.out", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(KOOPBOT), "run"], env=self.env, cwd=self.koopbot.root, stdout=log, stderr=log
        )
        log.close()

    def stop(self, sig: signal.Signals) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(timeout=60)
        self.process = None
        return code

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=60)
        self.process = None

    def output(self) -> str:
        return "".join(
            p.read_text(errors="replace") for p in sorted(self.koopbot.root.glob("run-*.out"))
        )


def hours_entries(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "koopbot.db") as con:
        (count,) = con.execute(
            "SELECT count(*) FROM hours_entry WHERE minutes = 15 AND deleted_at IS NULL"
        ).fetchone()
    return int(count)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
async def test_the_backlog_is_answered_exactly_once(
    sig: signal.Signals,
    synapse: Synapse,
    koopbot: Installation,
    codes: dict[str, str],
    tmp_path: Path,
) -> None:
    suffix = os.urandom(3).hex()
    account, human = synapse.register(f"koopbot-{suffix}"), synapse.register(f"mk-{suffix}")
    for user in (account, human):
        synapse.exempt_from_rate_limit(user.user_id)
    bot = account.user_id
    run = KoopbotRun(koopbot, account, synapse.url)
    mara = Person(synapse.url, human, tmp_path / "mara")
    try:
        await mara.start()
        run.start()
        room = await mara.create_room(invite=[bot], direct=True)
        await mara.wait_joined(room, bot)
        welcome = await mara.ask(room, f"/start {codes['MK']}", bot, timeout=60)
        assert "Willkommen" in welcome.body, welcome.body
        assert run.stop(signal.SIGTERM) == 0
        baseline = hours_entries(koopbot.data_dir)

        asked: list[str] = []
        for i in range(20):
            text = HOURS if i % 2 else QUESTIONS[i // 2 % len(QUESTIONS)]
            asked.append(await mara.say(room, text))

        run.start()
        await mara.wait(
            lambda: any(mara.answers_to(room, bot, e) for e in asked), "the first answer", 60
        )
        assert run.stop(sig) == (0 if sig is signal.SIGTERM else -signal.SIGKILL)  # mid-backlog
        answered_before = sum(1 for e in asked if mara.answers_to(room, bot, e))
        assert answered_before < len(asked), "the whole backlog went out before the signal"

        run.start()
        await mara.wait(
            lambda: all(mara.answers_to(room, bot, e) for e in asked), "all answers", 120
        )
        marker = await mara.ask(room, "!meinestunden", bot, timeout=WAIT)
        assert marker.reply_to is not None  # it came after every resend of the restart
        counts = {e: len(mara.answers_to(room, bot, e)) for e in asked}
        assert set(counts.values()) == {1}, counts
        since_welcome = mara.received(room, bot)[1:]
        assert len(since_welcome) == len(asked) + 1  # the answers and the marker, nothing more
        assert all(m.encrypted for m in since_welcome) and mara.undecryptable == []
        assert hours_entries(koopbot.data_dir) == baseline + 10  # each !stunden once
        assert run.runs == 3
    finally:
        run.kill()
        await mara.stop()

    log = koopbot.log()
    token = json.loads((koopbot.data_dir / "matrix" / "credentials.json").read_text())[
        "access_token"
    ]
    assert_no_secrets([log, run.output()], [account.password, token])  # issue 11
    assert " INFO nio" not in log and " DEBUG nio" not in log  # nio's per-event chatter
    assert "Traceback" not in run.output(), run.output()
