"""`koopbot import cases` as an agency runs it: the template, a dry run, the import, the chat."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
from datetime import date, timedelta
from pathlib import Path

from tests.e2e.driver import KOOPBOT, Installation

TEMPLATE = Path(__file__).parents[2] / "config" / "faelle-vorlage.csv"


def _case_list(root: Path, rows: int) -> Path:
    """The shipped template's header, and `rows` cases with dates around today."""
    header = TEMPLATE.read_text(encoding="utf-8").strip()
    today = date.today()
    start = (today - timedelta(days=100)).strftime("%d.%m.%Y")
    hpg = (today + timedelta(days=60)).strftime("%d.%m.%Y")
    lines = [header]
    for i in range(rows):
        lines.append(f"HB-2026-{900 + i};§30;{start};;;JB;TB;fk;nein;;{hpg} 10:00")
    path = root / "faelle.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_an_agency_imports_its_list_and_sees_the_deadlines_in_the_chat(
    koopbot: Installation, codes: dict[str, str]
) -> None:
    path = _case_list(koopbot.root, 3)
    dry = koopbot.run("import", "cases", str(path), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("\nneu: HB-2026-9") + dry.stdout.startswith("neu: ") == 3
    assert "3 Zeilen: 3 neu, 0 geändert, 0 unverändert, 0 abgelehnt." in dry.stdout
    assert dry.stdout.rstrip().endswith("Probelauf: nichts gespeichert.")
    assert "\r" not in dry.stdout  # no progress bar when the output is not a terminal

    done = koopbot.run("import", "cases", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("Importiert: 3 Fälle angelegt (")

    again = koopbot.run("import", "cases", str(path))
    assert "3 Zeilen: 0 neu, 0 geändert, 3 unverändert, 0 abgelehnt." in again.stdout

    jb = koopbot.registered("jonas", codes["JB"])
    deadlines = jb.say("/fristen alle")
    assert "HB-2026-900" in deadlines and "HB-2026-902" in deadlines, deadlines
    assert "HPG: " in jb.say("/fall HB-2026-901").replace("Hilfeplangespräch: ", "HPG: ")
    assert jb.end() == "Tschüss!\n"


def test_a_terminal_gets_a_progress_bar(koopbot: Installation, codes: dict[str, str]) -> None:
    path = _case_list(koopbot.root, 50)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        process = subprocess.Popen(
            [str(KOOPBOT), "import", "cases", str(path)],
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=subprocess.PIPE,
            env=koopbot.env,
            cwd=koopbot.root,
        )
        os.close(follower)
        follower = -1
        output = b""
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closes when the process ends
                break
            if not chunk:
                break
            output += chunk
        assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    text = output.decode("utf-8", errors="replace")
    assert "Prüfen" in text and "Schreiben" in text and "50/50" in text, text
    assert "Importiert: 50 Fälle angelegt" in text
