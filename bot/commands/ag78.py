"""AG 78 working-group sessions (DOMAIN.md A1)."""

from __future__ import annotations

from bot import texts
from bot.context import Ctx
from bot.formatting import SESSION_KIND_LABEL, fmt_datetime, fmt_time
from bot.messages import Reply
from bot.registry import REGISTRY
from storage.ag78 import ag_sessions


@REGISTRY.command(
    "ag78",
    summary="Kommende Termine der AG 78 (oder: /ag78 alle)",
    example="/ag78",
    group_safe=True,
)
def sessions(ctx: Ctx, args: str) -> Reply:
    """Upcoming AG 78 sessions; `alle` includes past ones."""
    everything = args.strip().lower() in ("alle", "all")
    found = ag_sessions(ctx.session, since=None if everything else ctx.now)
    if not found:
        return Reply(texts.NO_SESSIONS)
    tz = ctx.settings.tz
    lines = ["AG 78 – alle Termine:" if everything else "AG 78 – kommende Termine:"]
    for s in found:
        start, end = s.starts_at.astimezone(tz), s.ends_at.astimezone(tz)
        place = f", {s.place}" if s.place else ""
        lines.append(
            f"{fmt_datetime(start)}–{fmt_time(end)} {SESSION_KIND_LABEL[s.kind]}: {s.title}{place}"
        )
        if s.agenda:
            lines.append(f"  Themen: {s.agenda}")
    return Reply("\n".join(lines))
