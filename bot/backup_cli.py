"""`koopbot backup FILE` and `koopbot restore FILE` (issue 16).

A backup is one tar.gz: `manifest.json`, a consistent copy of the SQLite database (taken while
koopbot runs) and the Matrix store (the bot's device keys and identity: without it the bot
comes back as a new device that cannot read earlier encrypted messages). PostgreSQL is backed
up with `pg_dump` (README "Operations"); the archive then holds the Matrix store only.
`restore` needs a stopped installation: every `koopbot run`/`koopbot scheduler` holds a shared
lock on `data_dir/koopbot.lock`, which restore must get exclusively.
"""

from __future__ import annotations

import argparse
import fcntl
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from config.settings import Settings
from storage.backup import copy_sqlite, integrity_check, is_sqlite_file, sqlite_path
from storage.db import Database

ROOT = "koopbot-backup"
LOCK_NAME = "koopbot.lock"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = sub.add_parser("backup", help="consistent copy of the database and the Matrix store")
    backup.add_argument("file", type=Path, help="the archive to write (.tar.gz)")
    restore = sub.add_parser("restore", help="restore a backup into a stopped installation")
    restore.add_argument("file", type=Path, help="an archive written by koopbot backup")


def hold_running_lock(settings: Settings) -> IO[bytes]:
    """A shared lock for as long as the returned file stays open (the process runs)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    handle = (settings.data_dir / LOCK_NAME).open("a+b")
    fcntl.flock(handle, fcntl.LOCK_SH)
    return handle


def matrix_store(settings: Settings) -> Path:
    return settings.matrix.store_dir or settings.data_dir / "matrix"


def run(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    if args.command == "backup":
        return backup(settings, args.file)
    return restore(settings, db, args.file)


def backup(settings: Settings, target: Path) -> int:
    """Write the archive; the database stays in use meanwhile."""
    database = sqlite_path(settings.effective_database_url)
    store = matrix_store(settings)
    manifest: dict[str, object] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "sqlite" if database is not None else "external",
        "matrix_store": store.is_dir(),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="koopbot-backup-") as tmp:
        work = Path(tmp)
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            if database is not None:
                copy = work / "koopbot.db"
                copy_sqlite(database, copy)
                tar.add(copy, f"{ROOT}/koopbot.db")
            if store.is_dir():
                _add_store(tar, store, work)
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(f"{ROOT}/manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        partial.replace(target)
    print(f"Sicherung geschrieben: {target}")
    if database is None:
        print(
            "Datenbank: PostgreSQL – bitte mit pg_dump sichern (README, Abschnitt Operations); "
            "die Sicherung enthält nur den Matrix-Speicher."
        )
    else:
        print("Datenbank: SQLite, konsistente Kopie (Online-Backup).")
    if store.is_dir():
        print(f"Matrix-Speicher: {store} (Geräteschlüssel des Bots) gesichert.")
    else:
        hint = "" if settings.matrix.configured else " Matrix ist nicht eingerichtet."
        print(f"Hinweis: Kein Matrix-Speicher unter {store} – nicht in der Sicherung.{hint}")
    return 0


def _add_store(tar: tarfile.TarFile, store: Path, work: Path) -> None:
    """The Matrix store; its SQLite files (nio's crypto store) as consistent copies."""
    for path in sorted(store.rglob("*")):
        if not path.is_file() or path.name.endswith(("-wal", "-shm", "-journal")):
            continue
        name = f"{ROOT}/matrix/{path.relative_to(store).as_posix()}"
        if is_sqlite_file(path):
            copy = work / f"store-{abs(hash(name))}.db"
            copy_sqlite(path, copy)
            tar.add(copy, name)
        else:
            tar.add(path, name)


def restore(settings: Settings, db: Database, source: Path) -> int:
    """Replace the database and the Matrix store by the archive's; refused while koopbot runs."""
    if not source.is_file():
        print(f"koopbot: Die Sicherung {source} gibt es nicht.", file=sys.stderr)
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with (settings.data_dir / LOCK_NAME).open("a+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(
                "koopbot: koopbot läuft noch (koopbot run oder koopbot scheduler). Bitte erst "
                "alle Prozesse beenden, dann wiederherstellen. Nichts wurde geändert.",
                file=sys.stderr,
            )
            return 1
        return _restore_locked(settings, db, source)


def _restore_locked(settings: Settings, db: Database, source: Path) -> int:
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    with tempfile.TemporaryDirectory(prefix="koopbot-restore-", dir=settings.data_dir) as tmp:
        work = Path(tmp)
        try:
            with tarfile.open(source, "r:gz") as tar:
                tar.extractall(work, filter="data")
            manifest = json.loads((work / ROOT / "manifest.json").read_text("utf-8"))
        except (tarfile.TarError, OSError, ValueError, KeyError):
            print(
                f"koopbot: {source} ist keine Sicherung von koopbot backup. Nichts wurde geändert.",
                file=sys.stderr,
            )
            return 2
        copy = work / ROOT / "koopbot.db"
        database = sqlite_path(settings.effective_database_url)
        if copy.is_file():
            verdict = integrity_check(copy)
            if verdict != "ok":
                print(f"koopbot: Die Datenbank der Sicherung ist beschädigt ({verdict}).")
                return 2
            if database is None:
                print(
                    "Hinweis: Die Sicherung enthält eine SQLite-Datenbank; diese Installation "
                    "nutzt PostgreSQL (pg_restore). Die Datenbank bleibt unverändert."
                )
            else:
                db.dispose()  # no pooled connection may keep the old file open
                _set_aside(database, stamp)
                for suffix in ("-wal", "-shm"):  # a stale WAL would be replayed into the copy
                    Path(f"{database}{suffix}").unlink(missing_ok=True)
                database.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(copy, database)
                print(f"Datenbank wiederhergestellt: {database} (Prüfung: ok).")
        elif manifest.get("database") == "external":
            print("Datenbank: PostgreSQL – mit pg_restore aus dem pg_dump zurückspielen.")
        store_copy = work / ROOT / "matrix"
        store = matrix_store(settings)
        if store_copy.is_dir():
            if store.exists():
                store.rename(store.with_name(f"{store.name}.vor-restore-{stamp}"))
            store.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(store_copy, store)
            print(f"Matrix-Speicher wiederhergestellt: {store}.")
        else:
            print("Hinweis: Die Sicherung enthält keinen Matrix-Speicher.")
    print("Beim nächsten Start bringt koopbot das Schema auf den Stand des Programms.")
    return 0


def _set_aside(database: Path, stamp: str) -> None:
    """The database being replaced stays beside it, as `koopbot.db.vor-restore-<time>`."""
    if database.exists():
        os.replace(database, database.with_name(f"{database.name}.vor-restore-{stamp}"))
