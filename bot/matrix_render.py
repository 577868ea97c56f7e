"""Matrix message content as Element shows it, and the parts of incoming events koopbot reads.

Outgoing: a faithful plain `body` plus `org.matrix.custom.html` with bold headings, lists and
`<code>` for commands. Element runs text starting with "/" as a client command, so the
commands the core writes as `/fristen` are shown as `!fristen`, which koopbot accepts
everywhere on Matrix. Telegram's deadline buttons become reactions (✅ done, 💤 snooze):
`deadline_ids` reads them off a Reply, the adapter remembers them per sent event.

Incoming: the command text of a message (reply fallbacks stripped, the new content of an
edit) and its relations (thread, reply, edit).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot import matrix_texts
from bot.messages import Reply

DONE_KEYS = frozenset({"✅", "✔", "☑"})
SNOOZE_KEYS = frozenset({"💤", "⏰"})
DONE, SNOOZE = "✅", "💤"

_BANG = re.compile(r"(?<![\w/:.!])/([A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß0-9_]*)")
_DEADLINE_COMMAND = re.compile(r"^/(?:erledigt|done|spaeter|später|snooze)\s+#?(\d+)\b")
_BULLET = re.compile(r"^[•\-*–] ")
_ENTRY = re.compile(r"^(?:⚠️ ?|⚠ ?)?(?:#\d|!\w|[A-Z]{1,5}-\d{4}-\d)")
_COMMAND = re.compile(r"(?<![\w!/])!([A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß0-9_]*)")
_TOKEN = re.compile(r' ((?:[^\s"]*"[^"]*"[^\s"]*)+|\S+)')
_ARG = re.compile(
    r'^(?:#?\d\S*|[A-ZÄÖÜ][A-ZÄÖÜ0-9_\-…]*[.,;:)]?|§\s?\d\S*|[\wäöüß]+=\S+|"[^"]*"\S*|…)$'
)
_EXAMPLE_LEAD = ("z. B.", "z.B.", "Beispiel:", "Beispiele:", "etwa")
_STOP_WORDS = frozenset({"oder", "und", "bzw.", "·", "–", "-", "→"})
_URL = re.compile(r"https?://[^\s<>\"]+")
_DATE_END = re.compile(r"\d{1,2}\.\d{1,2}\.$")
_FALLBACK_HEAD = re.compile(r"^> (?:\* )?<[@!][^>]+> ")
_HEADING_MAX = 100
_FIRST_LINE_HEADING_MAX = 80


def reply_tx_id(event_id: str) -> str:
    """The transaction id of the answer to one incoming event: a resend never posts twice."""
    return "koopbot-re-" + hashlib.sha256(event_id.encode()).hexdigest()[:32]


def delivery_tx_id(idempotency_key: str) -> str:
    return "koopbot-out-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def bang(text: str, names: Iterable[str]) -> str:
    """`/fristen` -> `!fristen` for koopbot's own command names (not paths, URLs, `ASD/Träger`)."""
    known = {n.lower() for n in names}
    return _BANG.sub(lambda m: f"!{m[1]}" if m[1].lower() in known else m[0], text)


def deadline_ids(reply: Reply) -> tuple[int, ...]:
    """The deadlines a reply's buttons act on (done / snooze), in order, each once."""
    found: dict[int, None] = {}
    for button in reply.buttons:
        if m := _DEADLINE_COMMAND.match(button.command.strip()):
            found[int(m[1])] = None
    return tuple(found)


def plain_text(reply: Reply, names: Iterable[str]) -> str:
    """The body: the reply's text with `!` commands; buttons become reactions or lines."""
    names = list(names)
    text = bang(reply.text, names)
    lines = [
        f"• {b.label}: {bang(b.command, names)}"
        for b in reply.buttons
        if not _DEADLINE_COMMAND.match(b.command.strip())
    ]
    if len(deadline_ids(reply)) == 1:
        lines.append(matrix_texts.REACT_HINT)
    if lines:
        text += "\n\n" + "\n".join(lines)
    return text


def render(
    reply: Reply,
    command_names: Iterable[str] = (),
    *,
    relates_to: dict[str, Any] | None = None,
    notice: bool = False,
    mention: str | None = None,
) -> dict[str, Any]:
    """The `m.room.message` content of a Reply (attachments are sent separately).

    `mention`: the person it answers, in `m.mentions` as a reply should name them."""
    names = {n.lower() for n in command_names}
    body = plain_text(reply, names)
    content: dict[str, Any] = {
        "msgtype": "m.notice" if notice else "m.text",
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": to_html(body, names),
    }
    if relates_to is not None:
        content["m.relates_to"] = relates_to
    if mention is not None:
        content["m.mentions"] = {"user_ids": [mention]}
    return content


def relation(reply_to: str | None, thread_root: str | None) -> dict[str, Any] | None:
    """An answer's relation: a reply to the command, inside the command's thread if any."""
    if thread_root is not None:
        rel: dict[str, Any] = {"rel_type": "m.thread", "event_id": thread_root}
        if reply_to is not None:
            rel["is_falling_back"] = False
            rel["m.in_reply_to"] = {"event_id": reply_to}
        return rel
    if reply_to is not None:
        return {"m.in_reply_to": {"event_id": reply_to}}
    return None


# -- HTML --------------------------------------------------------------------------------------


def to_html(body: str, names: Iterable[str]) -> str:
    """Element-friendly HTML of a plain body; `html.escape` everywhere text goes in."""
    known = {n.lower() for n in names}
    blocks = [b.split("\n") for b in re.split(r"\n\s*\n", body.strip("\n"))]
    multi_line = sum(len(b) for b in blocks) > 1
    parts = [
        _block(lines, known, first=(i == 0 and multi_line), wrap=len(blocks) > 1)
        for i, lines in enumerate(blocks)
    ]
    return "".join(parts)


def _block(lines: list[str], names: set[str], *, first: bool, wrap: bool) -> str:
    """One paragraph: headings in bold, enumerations as a list, the rest line by line."""
    kinds = _line_kinds(lines, first=first)
    out: list[str] = []
    text: list[str] = []
    items: list[list[str]] = []

    def flush_text() -> None:
        if text:
            joined = "<br>".join(text)
            out.append(f"<p>{joined}</p>" if wrap or out or items else joined)
            text.clear()

    def flush_items() -> None:
        if items:
            out.append("<ul>" + "".join(f"<li>{'<br>'.join(i)}</li>" for i in items) + "</ul>")
            items.clear()

    examples = False  # items under "Beispiele:" are commands to copy, words and all
    for line, kind in zip(lines, kinds, strict=True):
        if kind == "more":
            items[-1].append(_inline(line.strip(), names))
        elif kind == "item":
            flush_text()
            bullet = _BULLET.match(line)
            item = line[bullet.end() :] if bullet else line.strip()
            items.append([_inline(item, names, example=examples)])
        else:
            flush_items()
            if kind == "head":
                examples = "Beispiel" in line
                text.append(f"<b>{_inline(line, names)}</b>")
            else:
                lead = len(line) - len(line.lstrip(" "))
                text.append("\u00a0" * lead + _inline(line.lstrip(" "), names))
    flush_items()
    flush_text()
    return "".join(out)


def _line_kinds(lines: list[str], *, first: bool) -> list[str]:
    """head, item (a list entry), more (an indented continuation of an item) or text."""
    entry = [bool(_BULLET.match(x.lstrip()) or _ENTRY.match(x.lstrip())) for x in lines]
    enumeration = sum(entry) >= 2  # several entries: a list, with or without a heading
    kinds: list[str] = []
    under_heading = False
    for i, line in enumerate(lines):
        indented = line.startswith("  ")
        more = i + 1 < len(lines)
        if indented and not entry[i] and kinds and kinds[-1] in ("item", "more"):
            kinds.append("more")
        elif entry[i] and (enumeration or under_heading):
            kinds.append("item")
        elif (
            not indented
            and more
            and len(line) <= _HEADING_MAX
            and (line.endswith(":") or (first and i == 0 and (len(lines) > 2 or entry[i + 1])))
        ):
            kinds.append("head")
            under_heading = line.endswith(":")
        else:
            kinds.append("item" if under_heading else "text")
    return kinds


def _inline(line: str, names: set[str], *, example: bool = False) -> str:
    """Escape one line; commands (with their arguments) in `<code>`, URLs as links."""
    spans: list[tuple[int, int, str]] = []
    for m in _URL.finditer(line):
        url = m[0].rstrip(".,;:)")
        spans.append((m.start(), m.start() + len(url), "url"))
    for m in _COMMAND.finditer(line):
        if m[1].lower() not in names or any(s <= m.start() < e for s, e, _ in spans):
            continue
        lead = example and not line[: m.start()].strip()
        spans.append((m.start(), _command_end(line, m.start(), m.end(), lead), "code"))
    spans.sort()
    out: list[str] = []
    pos = 0
    for start, end, kind in spans:
        if start < pos:
            continue
        out.append(html.escape(line[pos:start], quote=False))
        piece = line[start:end]
        if kind == "url":
            out.append(f'<a href="{html.escape(piece)}">{html.escape(piece, quote=False)}</a>')
        else:
            out.append(f"<code>{html.escape(piece, quote=False)}</code>")
        pos = end
    out.append(html.escape(line[pos:], quote=False))
    return "".join(out)


def _command_end(line: str, start: int, pos: int, example: bool) -> int:
    """Where a command's arguments end: placeholders, numbers, codes, `key=value`; in an
    example ("z. B. !hilfe stunden") the words up to a parenthesis, "oder" or the full stop."""
    example = example or line[:start].rstrip().endswith(_EXAMPLE_LEAD)
    while t := _TOKEN.match(line, pos):
        token = t[1]
        if token.startswith(("(", "!", "/")) or token in _STOP_WORDS:
            break
        if not example and not _ARG.match(token):
            break
        pos = t.end()
        if _trim(token) != token:
            break  # the sentence or the parenthesis ends here
    return start + len(_trim(line[start:pos]))


def _trim(span: str) -> str:
    """Drop punctuation that ends the sentence, not the command (a date keeps its dot)."""
    while span and (
        span[-1] in ",;:"
        or (span[-1] == ")" and span.count("(") < span.count(")"))
        or (span[-1] == "." and not _DATE_END.search(span))
    ):
        span = span[:-1]
    return span


# -- incoming ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Relation:
    """What an incoming event relates to; all None for a plain message."""

    edit_of: str | None = None  # m.replace
    thread_root: str | None = None  # m.thread
    reply_to: str | None = None  # m.in_reply_to (not Element's thread fallback)


def relation_of(content: dict[str, Any]) -> Relation:
    rel = content.get("m.relates_to")
    if not isinstance(rel, dict):
        return Relation()
    target = rel.get("event_id") if isinstance(rel.get("event_id"), str) else None
    in_reply = rel.get("m.in_reply_to")
    reply_to = in_reply.get("event_id") if isinstance(in_reply, dict) else None
    if rel.get("rel_type") == "m.replace":
        return Relation(edit_of=target)
    if rel.get("rel_type") == "m.thread":
        if rel.get("is_falling_back", True):
            reply_to = None  # for clients without threads; not a reply the person chose
        return Relation(
            thread_root=target, reply_to=reply_to if isinstance(reply_to, str) else None
        )
    return Relation(reply_to=reply_to if isinstance(reply_to, str) else None)


def command_text(content: dict[str, Any]) -> str:
    """What the person typed: the edit's new content, without a quoted reply fallback."""
    source = content
    if relation_of(content).edit_of is not None and isinstance(content.get("m.new_content"), dict):
        source = content["m.new_content"]
    body = source.get("body")
    return strip_reply_fallback(body if isinstance(body, str) else "").strip()


def strip_reply_fallback(body: str) -> str:
    """Drop the `> <@user:server> …` lines a reply starts with (and the blank line after)."""
    lines = body.split("\n")
    if not lines or not _FALLBACK_HEAD.match(lines[0]):
        return body
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    if index < len(lines) and not lines[index].strip():
        index += 1
    return "\n".join(lines[index:])
