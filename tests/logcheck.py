"""`assert_no_secrets`: no secret in any log a test's processes wrote (issue 11)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def _text(item: str | Path) -> tuple[str, str]:
    if isinstance(item, Path):
        text = item.read_text(encoding="utf-8", errors="replace") if item.exists() else ""
        return str(item), text
    return "<text>", item


def assert_no_secrets(paths_or_texts: Iterable[str | Path], secrets: Iterable[str]) -> int:
    """Fails naming the log and the secret's label (never the secret) when one appears, also
    without its spaces or URL-encoded; returns how many characters were checked."""
    wanted = [s for s in secrets if s]
    assert wanted, "no secrets to look for"
    checked = 0
    for item in paths_or_texts:
        name, text = _text(item)
        checked += len(text)
        for number, secret in enumerate(wanted):
            forms = {secret, "".join(secret.split()), secret.replace(":", "%3A")}
            for form in forms:
                assert form not in text, f"secret #{number} ({len(secret)} chars) in {name}"
    return checked


def log_files(*dirs: Path) -> list[Path]:
    """Every *.log file under `dirs`."""
    return sorted(p for d in dirs if d.exists() for p in d.rglob("*.log"))
