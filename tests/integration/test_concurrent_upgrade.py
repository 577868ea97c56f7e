"""Upgrades: several processes starting at once on a new database all migrate it without
error, on PostgreSQL (an advisory lock) and SQLite (BEGIN IMMEDIATE) (issue 16, README
"Deploy")."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from storage.db import alembic_config, make_engine
from tests.integration.conftest import admin_engine, create_database, drop_database, pg_admin_url

KOOPBOT = Path(sys.executable).with_name("koopbot")
PROCESSES = 4


@pytest.fixture
def fresh_pg() -> Iterator[str]:
    admin = admin_engine(pg_admin_url())
    name = f"koopbot_upgrade_{secrets.token_hex(6)}"
    create_database(admin, name)
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        drop_database(admin, name)
        admin.dispose()


def upgrade_at_once(url: str, tmp_path: Path) -> list[subprocess.CompletedProcess[bytes]]:
    env = {**os.environ, "KOOPBOT_DATABASE_URL": url, "KOOPBOT_DATA_DIR": str(tmp_path)}
    env.pop("KOOPBOT_CONFIG", None)
    procs = [
        subprocess.Popen(
            [str(KOOPBOT), "db", "upgrade"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(PROCESSES)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def head() -> str:
    engine = make_engine("sqlite://")
    revision = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    engine.dispose()
    assert revision is not None
    return revision


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_processes_upgrading_a_new_database_at_once_all_succeed(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "postgresql":
        url = request.getfixturevalue("fresh_pg")
    else:
        url = f"sqlite:///{tmp_path / 'koopbot.db'}"
    results = upgrade_at_once(url, tmp_path)
    for result in results:
        assert result.returncode == 0, result.stderr.decode()[-2000:]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert versions == [(head(),)]
