"""Shared parts of the reminder benchmarks: a throw-away PostgreSQL database, worker processes."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.integration.conftest import admin_engine, create_database, drop_database, pg_admin_url

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def pg_database() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database on the local server, dropped afterwards."""
    admin = admin_engine(pg_admin_url())
    name = f"koopbot_bench_{secrets.token_hex(4)}"
    create_database(admin, name)
    try:
        yield make_url(pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        drop_database(admin, name)
        admin.dispose()


async def start_worker(
    db_url: str, base_url: str, start: str, env: dict[str, str], data_dir: Path
) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.reminder_worker",
        db_url,
        base_url,
        start,
        cwd=ROOT,
        env={**os.environ, **env, "KOOPBOT_DATA_DIR": str(data_dir)},
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 120)
    assert line.strip() == b"ready", line
    return proc


async def finish_worker(proc: asyncio.subprocess.Process) -> tuple[int, int, int]:
    """(sent, lost claims, 429 answers) of a worker that ends by itself."""
    out, _ = await asyncio.wait_for(proc.communicate(), 1800)
    assert proc.returncode == 0, out
    words = out.split()
    return int(words[-1]), int(words[-3]), int(words[-5])
