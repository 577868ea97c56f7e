"""End-to-end fixtures: the installed `koopbot` script with a fresh data directory per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.driver import KOOPBOT, Installation


@pytest.fixture
def koopbot(tmp_path: Path) -> Iterator[Installation]:
    if not KOOPBOT.exists():
        pytest.fail(f"{KOOPBOT} is missing: install the project into this venv (pip install -e .)")
    installation = Installation(tmp_path)
    try:
        yield installation
    finally:
        problems = installation.shut_down()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """`koopbot demo` run once per session: its data directory and the codes it printed."""
    installation = Installation(tmp_path_factory.mktemp("demo"))
    found = installation.demo()
    assert set(found) == {"MK", "JB", "LW", "TS", "EL", "TB"}, found
    return installation.data_dir, found


@pytest.fixture
def codes(koopbot: Installation, demo_template: tuple[Path, dict[str, str]]) -> dict[str, str]:
    """The demo organisation is loaded; its invite codes by Kürzel (MK, JB, LW, TS, EL, TB).

    Each test gets its own copy of one `koopbot demo` database: the same as running the
    command again, a second faster (the demo's dates are relative to the same today).
    """
    source, found = demo_template
    koopbot.data_dir.mkdir(parents=True, exist_ok=True)
    for path in source.glob("koopbot.db*"):
        shutil.copy2(path, koopbot.data_dir / path.name)
    return found
