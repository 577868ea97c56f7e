"""The console adapter: a chat with koopbot on stdin/stdout, a thin layer over the core."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import TextIO

from bot.app import App, MessengerKind
from bot.core import Bot
from bot.log_messenger import LogMessenger
from bot.messages import Attachment, Incoming, Reply, Sender
from scheduler.ports import Messenger

PROMPT = "> "
_QUIT = {"/ende", "/exit", "/quit", "exit", "quit"}


def render(reply: Reply) -> str:
    text = reply.text
    if reply.buttons:
        text += "\n" + "  ".join(f"[{b.label}: {b.command}]" for b in reply.buttons)
    return text


def save_attachment(folder: Path, attachment: Attachment) -> Path:
    """Write a chart or export where the console user can open it; never overwrites."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(attachment.filename).name
    stem, suffix, n = path.stem, path.suffix, 1
    while path.exists():
        n += 1
        path = folder / f"{stem}_{n}{suffix}"
    path.write_bytes(attachment.data)
    return path


def chat(bot: Bot, user_id: str, *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """Read lines until end of input or /ende; every line is one message from `user_id`."""
    sender = Sender(transport="console", user_id=user_id, display_name=None)
    while True:
        stdout.write(PROMPT)
        stdout.flush()
        line = stdin.readline()
        if not line:
            stdout.write("\n")
            return
        text = line.strip()
        if not text:
            continue
        if text.lower() in _QUIT:
            stdout.write("Tschüss!\n")
            return
        reply = bot.handle(Incoming(sender=sender, chat_id=f"console:{user_id}", text=text))
        stdout.write(render(reply) + "\n")
        for attachment in reply.attachments:
            path = save_attachment(bot.settings.data_dir / "files", attachment)
            stdout.write(f"Datei: {path}\n")


async def chat_service(app: App) -> None:
    """The console chat; stdin is read in a daemon thread so other services keep running
    and a signal can end the process while the thread still waits for input."""
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()

    def done() -> None:
        if not finished.done():
            finished.set_result(None)

    def worker() -> None:
        try:
            chat(app.bot, app.settings.console_user)
        finally:
            loop.call_soon_threadsafe(done)

    threading.Thread(target=worker, name="console", daemon=True).start()
    await finished


async def outgoing(app: App) -> Messenger[Reply]:
    return LogMessenger("console")


MESSENGER = MessengerKind(chat_service, outgoing)
