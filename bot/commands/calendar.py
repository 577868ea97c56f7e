"""Calendar feeds from chat: my links, renew or revoke them (AG 78 sessions: bot/commands/ag78.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from bot.commands.common import audit_change
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import fmt_date
from bot.messages import Reply
from bot.parsing.echo import shown
from bot.registry import REGISTRY
from scheduler.feeds import feed_url, rotation_title
from storage.feeds import FeedKind, active_tokens, issue_token, revoke_tokens
from storage.models.feeds import FeedToken
from storage.models.rota import Rotation, RotationMember

_SELECTORS = {
    "alle": None,
    "all": None,
    "ag78": {FeedKind.ag78},
    "ag": {FeedKind.ag78},
    "fristen": {FeedKind.personal},
    "persoenlich": {FeedKind.personal},
    "persönlich": {FeedKind.personal},
    "rufbereitschaft": {FeedKind.oncall, FeedKind.myshifts},
    "notfall": {FeedKind.oncall, FeedKind.myshifts},
}
_SELECTOR_HELP = "ag78, fristen, rufbereitschaft oder alle"
_SUBSCRIBE_HINT = (
    "Abonnieren: in Outlook „Kalender hinzufügen → Aus dem Internet“, in Google Kalender "
    "„Per URL“, in Apple Kalender „Neues Kalenderabonnement“, in Thunderbird „Neuer Kalender "
    "→ Im Netzwerk“. Der Kalender aktualisiert sich dann selbst."
)


def _served_note(ctx: Ctx) -> str | None:
    """In `koopbot chat` nothing serves the links (issue 14): say who does."""
    if ctx.message.sender.transport != "console":
        return None
    return (
        f"Hinweis: Die Links liefert der Web-Dienst von koopbot run (Dienst „web“) unter "
        f"{ctx.settings.web.base_url} aus; koopbot chat allein beantwortet sie nicht."
    )


@dataclass(frozen=True)
class _Feed:
    kind: FeedKind
    rotation_id: int | None
    label: str


def _my_feeds(ctx: Ctx) -> list[_Feed]:
    feeds = [
        _Feed(FeedKind.ag78, None, "AG 78 – Termine (darf innerhalb der AG weitergegeben werden)"),
        _Feed(FeedKind.personal, None, "Meine Fristen und Termine (persönlich, nicht weitergeben)"),
    ]
    member_of = ctx.session.exec(
        select(RotationMember).where(RotationMember.staff_id == ctx.staff_id)
    ).first()
    if member_of is not None:
        feeds.append(_Feed(FeedKind.myshifts, None, "Meine Rufbereitschaft"))
    for rotation in ctx.session.exec(select(Rotation).order_by(col(Rotation.id))):
        feeds.append(_Feed(FeedKind.oncall, rotation.id, rotation_title(rotation.name)))
    return feeds


def _matches(token: FeedToken, feed: _Feed) -> bool:
    return token.kind == feed.kind.value and token.rotation_id == feed.rotation_id


def _selection(args: str) -> set[FeedKind] | None:
    word = args.strip().lower()
    if not word:
        return None
    if word not in _SELECTORS:
        raise UserError(f"{shown(args)} kenne ich nicht als Kalender. Möglich: {_SELECTOR_HELP}.")
    return _SELECTORS[word]


def _issue(ctx: Ctx, feed: _Feed) -> str:
    token = issue_token(
        ctx.session,
        staff_id=ctx.staff_id,
        kind=feed.kind,
        rotation_id=feed.rotation_id,
        now=ctx.now,
    )
    audit_change(ctx, "feed_issued", "feed_token", None, kind=feed.kind.value)
    return feed_url(ctx.settings, token)


@REGISTRY.command(
    "kalender",
    "calendar",
    summary="Meine Kalender-Links zum Abonnieren (AG 78, Fristen, Rufbereitschaft)",
    example="/kalender",
)
def my_links(ctx: Ctx, args: str) -> Reply:
    """New links for feeds without one; feeds with a link show since when it is active."""
    if args.strip():
        raise UserError("/kalender braucht keine Angaben. Neue Links: /kalender_neu")
    tokens = active_tokens(ctx.session, ctx.staff_id)
    lines = ["Deine Kalender-Abos:"]
    already = False
    for feed in _my_feeds(ctx):
        existing = next((t for t in tokens if _matches(t, feed)), None)
        if existing is None:
            lines.append(f"• {feed.label}:\n  {_issue(ctx, feed)}")
        else:
            already = True
            since = fmt_date(existing.created_at.astimezone(ctx.settings.tz).date())
            lines.append(f"• {feed.label}: Link aktiv seit {since}")
    if already:
        lines.append(
            "Aus Sicherheitsgründen speichere ich Links nur verschlüsselt und kann einen "
            "bestehenden nicht noch einmal zeigen. /kalender_neu erzeugt neue Links; die alten "
            "funktionieren dann nicht mehr."
        )
    lines.append(_SUBSCRIBE_HINT)
    if (note := _served_note(ctx)) is not None:
        lines.append(note)
    return Reply("\n".join(lines))


@REGISTRY.command(
    "kalender_neu",
    "renewcalendar",
    summary="Neue Kalender-Links; die alten hören sofort auf zu funktionieren",
    example="/kalender_neu fristen",
)
def renew_links(ctx: Ctx, args: str) -> Reply:
    """Revoke the selected links (default: all) and issue new ones."""
    wanted = _selection(args)
    tokens = active_tokens(ctx.session, ctx.staff_id)
    chosen = [f for f in _my_feeds(ctx) if wanted is None or f.kind in wanted]
    old = [t for t in tokens if wanted is None or FeedKind(t.kind) in wanted]
    revoke_tokens(ctx.session, old, ctx.now)
    for token in old:
        audit_change(ctx, "feed_revoked", "feed_token", token.id, kind=token.kind)
    lines = ["Neue Kalender-Links (die bisherigen sind gesperrt):"]
    lines += [f"• {feed.label}:\n  {_issue(ctx, feed)}" for feed in chosen]
    lines.append("Bitte das Abo in deinem Kalender mit dem neuen Link ersetzen.")
    if (note := _served_note(ctx)) is not None:
        lines.append(note)
    return Reply("\n".join(lines))


@REGISTRY.command(
    "kalender_sperren",
    "revokecalendar",
    summary="Kalender-Links sperren, ohne neue zu erzeugen",
    example="/kalender_sperren alle",
)
def revoke_links(ctx: Ctx, args: str) -> Reply:
    """Revoke the selected links (default: all), e.g. after a lost phone."""
    wanted = _selection(args)
    old = [
        t
        for t in active_tokens(ctx.session, ctx.staff_id)
        if wanted is None or FeedKind(t.kind) in wanted
    ]
    if not old:
        return Reply("Du hast keine aktiven Kalender-Links dieser Art. /kalender erzeugt welche.")
    revoke_tokens(ctx.session, old, ctx.now)
    for token in old:
        audit_change(ctx, "feed_revoked", "feed_token", token.id, kind=token.kind)
    return Reply(
        f"{len(old)} Kalender-Link(s) gesperrt. Abos damit bekommen ab sofort nichts mehr. "
        "/kalender erzeugt bei Bedarf neue."
    )
