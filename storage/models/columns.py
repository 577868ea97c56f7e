"""Column builders the tables share: UTC timestamps and the reminder sweep's next look."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, text

from storage.types import UTCDateTime

# When the reminder sweep next looks at a row (issue 4). New rows get the epoch ("plan now")
# from the server default; triggers (migration 0003) reset it when the date or status changes.
REMIND_NOW_SQL = "'1970-01-01 00:00:00'"


def utc_column(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


def reminder_at_column() -> Column[datetime]:
    return Column(UTCDateTime(), nullable=True, server_default=text(REMIND_NOW_SQL), index=True)
