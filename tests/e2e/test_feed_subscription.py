"""Done-when of issue 5: a coordinator enters the 2023 AG 78 sessions of seed 003 in chat
(and is asked about the Wednesday that was a Monday); a member subscribes with the link
served by `koopbot run` over HTTP on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.driver import INVITE_CODE, KOOPBOT, Installation
from tests.icalcheck import feed_path, parse_feed

BERLIN = ZoneInfo("Europe/Berlin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def feed_server(koopbot: Installation) -> Iterator[str]:
    """`koopbot run` with the web service only; stopped at the end, also on failure."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **koopbot.env,
        "KOOPBOT_SERVICES": '["web"]',
        "KOOPBOT_WEB__PORT": str(port),
        "KOOPBOT_WEB__PUBLIC_BASE_URL": base,
        "KOOPBOT_WEB__RECHECK_SECONDS": "0",  # chat runs in other processes: no staleness
    }
    koopbot.env.update({k: v for k, v in env.items() if k.startswith("KOOPBOT_WEB")})
    assert koopbot.run("db", "upgrade").returncode == 0
    process = subprocess.Popen(
        [str(KOOPBOT), "run"],
        env=env,
        cwd=koopbot.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "feed server did not answer /healthz in 20 s"
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        try:
            _, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err, err.decode()


def _invite(koopbot: Installation, org: str, *role: str) -> str:
    result = koopbot.run("invite", "--org", org, *role)
    assert result.returncode == 0, result.stderr
    match = INVITE_CODE.search(result.stdout)
    assert match is not None, result.stdout
    return match[0]


def test_coordinator_enters_seed_003_and_a_member_subscribes(
    koopbot: Installation, feed_server: str
) -> None:
    for org, kind in (("Jugendamt Kreis", "jugendamt"), ("Regenbogen", "provider")):
        assert koopbot.run("org", "add", org, "--kind", kind).returncode == 0
    lead = koopbot.chat("lead")
    code = _invite(koopbot, "Jugendamt Kreis", "--role", "coordinator")
    assert lead.say(f"/start {code} Eva Lind").startswith("Willkommen")

    assert lead.say('/ag78_neu 27.01.2023 9-12 titel="1. Sitzung AG 78 HzE"').startswith(
        "AG-78-Termin eingetragen"
    )
    # Seed 003: "am Mittwoch, dem 20. März 2023, von 9 bis 16 Uhr" - it was a Monday (A2).
    question = lead.say('/ag78_neu Mi 20.03.2023 9-16 workshop titel="Fachaustausch"')
    assert "Der 20.03.2023 ist ein Montag, kein Mittwoch. Meinst du Montag, 20.03.2023?" in question
    assert '/ag78_neu Mo 20.03.2023 9-16 workshop titel="Fachaustausch"' in question  # button
    assert lead.say('/ag78_neu Mo 20.03.2023 9-16 workshop titel="Fachaustausch"').startswith(
        "AG-78-Termin eingetragen: Mo 20.03.2023, 09:00–16:00 Workshop: Fachaustausch"
    )
    for day in ("12.05.2023", "01.09.2023", "13.10.2023"):
        assert lead.say(f"/ag78_neu {day} 9-12").startswith("AG-78-Termin eingetragen")

    member = koopbot.chat("member")
    code = _invite(koopbot, "Regenbogen", "--role", "caseworker", "--type", "fachkraft")
    assert member.say(f"/start {code} Jo Berg").startswith("Willkommen")
    links = member.say("/kalender")
    path = feed_path(links, "AG 78")
    assert f"{feed_server}{path}" in links

    status, body = _get(f"{feed_server}{path}")
    assert status == 200
    _, events = parse_feed(body)
    starts = sorted((e.start, e.end) for e in events.values())  # type: ignore[type-var]
    assert [(s.astimezone(BERLIN), e.astimezone(BERLIN)) for s, e in starts] == [  # type: ignore[union-attr]
        (datetime(2023, 1, 27, 9, tzinfo=BERLIN), datetime(2023, 1, 27, 12, tzinfo=BERLIN)),
        (datetime(2023, 3, 20, 9, tzinfo=BERLIN), datetime(2023, 3, 20, 16, tzinfo=BERLIN)),
        (datetime(2023, 5, 12, 9, tzinfo=BERLIN), datetime(2023, 5, 12, 12, tzinfo=BERLIN)),
        (datetime(2023, 9, 1, 9, tzinfo=BERLIN), datetime(2023, 9, 1, 12, tzinfo=BERLIN)),
        (datetime(2023, 10, 13, 9, tzinfo=BERLIN), datetime(2023, 10, 13, 12, tzinfo=BERLIN)),
    ]
    # Across the change to summer time the wall clock stays, the UTC hour moves.
    assert [s.astimezone(UTC).hour for s, _ in starts] == [8, 8, 7, 7, 7]  # type: ignore[union-attr]

    may = next(e for e in events.values() if e.start.date() == date(2023, 5, 12))  # type: ignore[union-attr]
    assert "geändert" in lead.say("/ag78_verlegen 12.05.2023 19.05.2023")
    _, moved = parse_feed(_get(f"{feed_server}{path}")[1])
    assert moved[may.uid].start == datetime(2023, 5, 19, 9, tzinfo=BERLIN)
    assert moved[may.uid].sequence == may.sequence + 1

    assert "neue" in member.say("/kalender_neu ag78").lower()
    assert _get(f"{feed_server}{path}")[0] == 404
    lead.end()
    member.end()
