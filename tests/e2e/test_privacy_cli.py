"""`koopbot auskunft`, `koopbot loeschen`, `koopbot retention --dry-run` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from storage.db import Database
from storage.models.audit import AuditEntry
from storage.models.staff import MessengerIdentity, Staff
from tests.integration.helpers import all_rows, one_row

KOOPBOT = Path(sys.executable).with_name("koopbot")


def _koopbot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KOOPBOT_DATA_DIR": str(tmp_path / "data")}
    env.pop("KOOPBOT_CONFIG", None)
    return subprocess.run(
        [str(KOOPBOT), *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )


def test_auskunft_and_loeschen(tmp_path: Path) -> None:
    assert _koopbot(tmp_path, "demo").returncode == 0
    db = Database(f"sqlite:///{tmp_path / 'data' / 'koopbot.db'}")
    try:
        jb = one_row(db, Staff, Staff.handle == "JB")
        with db.session() as session:
            session.add(
                MessengerIdentity(
                    staff_id=jb.id or 0,
                    transport="telegram",
                    external_id="4242",
                    created_at=jb.created_at,
                )
            )

        done = _koopbot(tmp_path, "auskunft", "JB", "--out", str(tmp_path / "out" / "jb"))
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[1:] == [
            str(tmp_path / "out" / "jb.json"),
            str(tmp_path / "out" / "jb.xlsx"),
        ]
        data = json.loads((tmp_path / "out" / "jb.json").read_text(encoding="utf-8"))
        assert data["Profil"][0]["name"] == "Jonas Berg"
        assert data["Profil"][0]["work_phone"] == "0421 555-1011"
        assert data["Messenger-Konten"][0]["external_id"] == "4242"
        assert len(data["Stunden"]) > 0 and {h["staff_id"] for h in data["Stunden"]} == {jb.id}
        assert {c["code"] for c in data["Fälle (zuständig)"]} >= {"HB-2026-011"}
        assert data["Rufbereitschaften"][0]["rotation"] == "Rufbereitschaft Weserufer"
        assert all("code_hash" not in i for i in data["Einladungen"])
        book = load_workbook(tmp_path / "out" / "jb.xlsx")
        assert book.sheetnames[:3] == ["Profil", "Messenger-Konten", "Stunden"]
        assert book["Stunden"].max_row == len(data["Stunden"]) + 1  # a header, then the rows

        # Without --ja nothing happens; with it, at once and audited.
        asked = _koopbot(tmp_path, "loeschen", "JB")
        assert asked.returncode == 2 and "--ja" in asked.stderr
        assert one_row(db, Staff, Staff.id == jb.id).name == "Jonas Berg"
        erased = _koopbot(tmp_path, "loeschen", "JB", "--ja")
        assert erased.returncode == 0, erased.stderr
        assert "Bitte neu zuweisen (/zuweisen), noch offen: HB-2026-011" in erased.stdout
        person = one_row(db, Staff, Staff.id == jb.id)
        assert (person.name, person.handle, person.work_phone, person.active) == (
            f"Ehemalige Person #{jb.id}",
            f"EHEM{jb.id}",
            None,
            False,
        )
        assert all_rows(db, MessengerIdentity, MessengerIdentity.staff_id == jb.id) == []
        [entry] = all_rows(db, AuditEntry, AuditEntry.action == "erase")
        assert (entry.actor, entry.entity, entry.entity_id) == ("cli", "staff", jb.id)

        again = _koopbot(tmp_path, "auskunft", f"#{jb.id}", "--out", str(tmp_path / "again.json"))
        assert again.returncode == 0, again.stderr
        after = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
        assert after["Profil"][0]["name"] == f"Ehemalige Person #{jb.id}"
        assert len(after["Stunden"]) == len(data["Stunden"])  # the hours stay
        assert "Jonas" not in (tmp_path / "again.json").read_text(encoding="utf-8")

        unknown = _koopbot(tmp_path, "auskunft", "ZZ", "--out", str(tmp_path / "x"))
        assert unknown.returncode == 2 and "keine Person" in unknown.stderr
    finally:
        db.dispose()


def test_retention_dry_run_lists_and_changes_nothing(tmp_path: Path) -> None:
    assert _koopbot(tmp_path, "demo").returncode == 0
    db = Database(f"sqlite:///{tmp_path / 'data' / 'koopbot.db'}")
    try:
        with db.session() as session:
            ts = session.get(Staff, one_row(db, Staff, Staff.handle == "TS").id)
            assert ts is not None
            ts.active = False
        before = all_rows(db, Staff)
        done = _koopbot(tmp_path, "retention", "--dry-run")
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0].endswith("(Probelauf, nichts geändert):")
        assert "Abgeschlossene Fälle (älter als 730 Tage): 0" in lines
        assert f"  #{ts.id} Tim Sommer: deaktiviert ohne Datum – die Frist beginnt heute" in lines
        assert all_rows(db, Staff) == before
        run = _koopbot(tmp_path, "retention")
        assert run.returncode == 0 and one_row(db, Staff, Staff.id == ts.id).deactivated_at
    finally:
        db.dispose()
