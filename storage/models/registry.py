"""Imports every table module, so that `SQLModel.metadata` knows all tables (db.py, Alembic)."""

from __future__ import annotations

from storage.models import (  # noqa: F401  (each import registers its tables)
    ag78,
    audit,
    cases,
    feeds,
    hours,
    matrix,
    outbox,
    reachability,
    rota,
    staff,
)
