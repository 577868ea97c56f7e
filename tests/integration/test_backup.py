"""`koopbot backup` during a write load and `koopbot restore` into a stopped installation, as
processes on real SQLite files (issue 16)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from storage.db import Database

KOOPBOT = Path(sys.executable).with_name("koopbot")


def env_for(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "KOOPBOT_DATA_DIR": str(data_dir), "KOOPBOT_SERVICES": "[]"}
    env.pop("KOOPBOT_CONFIG", None)
    return env


def koopbot(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KOOPBOT), *args], env=env_for(data_dir), capture_output=True, text=True, timeout=120
    )


class Writer(threading.Thread):
    """Commits one organisation per transaction until stopped; remembers what was committed."""

    def __init__(self, db_file: Path) -> None:
        super().__init__(daemon=True)
        self.db_file = db_file
        self.committed: list[str] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        conn = sqlite3.connect(self.db_file, timeout=30)
        try:
            n = 0
            while not self.stop.is_set():
                name = f"Last {n}"
                with conn:  # one transaction, committed when the block ends
                    conn.execute(
                        "INSERT INTO organisation (name, kind) VALUES (?, 'provider')", (name,)
                    )
                self.committed.append(name)
                n += 1
        except BaseException as exc:  # the test reports it
            self.error = exc
        finally:
            conn.close()


def organisations(db_file: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM organisation")}
    finally:
        conn.close()


def test_backup_under_write_load_restores_every_committed_row(tmp_path: Path) -> None:
    live = tmp_path / "live"
    Database(f"sqlite:///{live / 'koopbot.db'}").upgrade()
    store = live / "matrix"
    store.mkdir()
    (store / "credentials.json").write_text('{"device_id": "KOOPBOTDEV"}', "utf-8")
    nio = sqlite3.connect(store / "koopbot_KOOPBOTDEV.db")
    nio.execute("CREATE TABLE keys (k TEXT)")
    nio.execute("INSERT INTO keys VALUES ('olm-account')")
    nio.commit()
    nio.close()

    writer = Writer(live / "koopbot.db")
    writer.start()
    try:
        while len(writer.committed) < 200:
            time.sleep(0.01)
        before = set(writer.committed)  # committed before the backup started
        archive = tmp_path / "sicherung.tar.gz"
        done = koopbot(live, "backup", str(archive))
        after = set(writer.committed)  # committed by the time it finished
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None, writer.error
    assert done.returncode == 0, done.stderr
    assert "Sicherung geschrieben" in done.stdout
    assert "Matrix-Speicher" in done.stdout and "gesichert" in done.stdout
    assert len(after) > len(before), "the writer kept writing while the backup ran"

    fresh = tmp_path / "restored"
    restored = koopbot(fresh, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert "Datenbank wiederhergestellt" in restored.stdout
    db_file = fresh / "koopbot.db"
    conn = sqlite3.connect(db_file)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    names = {n for n in organisations(db_file) if n.startswith("Last ")}
    assert before <= names  # every row committed before the backup
    assert names <= after  # and nothing that was never committed
    # A snapshot: the rows are a prefix of the writer's order, no gaps.
    assert names == set(writer.committed[: len(names)])
    copied = sqlite3.connect(fresh / "matrix" / "koopbot_KOOPBOTDEV.db")
    assert copied.execute("SELECT k FROM keys").fetchall() == [("olm-account",)]
    copied.close()
    assert (fresh / "matrix" / "credentials.json").read_text("utf-8").startswith("{")
    # The restored installation starts: migrations run on the copy.
    assert koopbot(fresh, "db", "upgrade").returncode == 0


def test_backup_says_when_the_matrix_store_is_missing(tmp_path: Path) -> None:
    live = tmp_path / "live"
    Database(f"sqlite:///{live / 'koopbot.db'}").upgrade()
    done = koopbot(live, "backup", str(tmp_path / "b.tar.gz"))
    assert done.returncode == 0, done.stderr
    assert "Kein Matrix-Speicher" in done.stdout
    restored = koopbot(tmp_path / "other", "restore", str(tmp_path / "b.tar.gz"))
    assert "keinen Matrix-Speicher" in restored.stdout


def test_restore_is_refused_while_koopbot_runs(tmp_path: Path) -> None:
    live = tmp_path / "live"
    Database(f"sqlite:///{live / 'koopbot.db'}").upgrade()
    archive = tmp_path / "b.tar.gz"
    assert koopbot(live, "backup", str(archive)).returncode == 0
    before = (live / "koopbot.db").stat().st_mtime_ns
    proc = subprocess.Popen(
        [str(KOOPBOT), "scheduler"],
        env=env_for(live),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        log = live / "koopbot.log"
        deadline = time.monotonic() + 60
        while not (log.exists() and "reminder engine ready" in log.read_text("utf-8")):
            assert proc.poll() is None
            assert time.monotonic() < deadline, "scheduler not ready within 60 s"
            time.sleep(0.05)
        refused = koopbot(live, "restore", str(archive))
        assert refused.returncode == 1
        assert "koopbot läuft noch" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert not list(live.glob("koopbot.db.vor-restore-*"))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (live / "koopbot.db").stat().st_mtime_ns >= before
    allowed = koopbot(live, "restore", str(archive))
    assert allowed.returncode == 0, allowed.stderr
    assert list(live.glob("koopbot.db.vor-restore-*"))


@pytest.mark.parametrize("content", [b"", b"not a tar archive"])
def test_restore_of_something_else_changes_nothing(tmp_path: Path, content: bytes) -> None:
    live = tmp_path / "live"
    Database(f"sqlite:///{live / 'koopbot.db'}").upgrade()
    bogus = tmp_path / "x.tar.gz"
    bogus.write_bytes(content)
    answer = koopbot(live, "restore", str(bogus))
    assert answer.returncode == 2
    assert "keine Sicherung" in answer.stderr and "Traceback" not in answer.stderr
    assert not list(live.glob("*.vor-restore-*"))
