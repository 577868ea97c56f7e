"""Drive the installed `koopbot` console script as a person at a terminal would.

`Installation` is one data directory with its environment; `Console` is one running
`koopbot chat` process, spoken to line by line: write a line, read until the next "> " prompt.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

KOOPBOT = Path(sys.executable).with_name("koopbot")
PROMPT = "> "
REPLY_TIMEOUT = 20.0  # seconds; a reply takes milliseconds, start-up well under a second
INVITE_CODE = re.compile(r"\b[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\b")
_DEMO_LINE = re.compile(r"^\s+(?P<code>\S+)\s+(?P<name>.+?) \((?P<handle>[A-Z]+)\), ")
_SORRY = "interner Fehler"


class ConsoleError(AssertionError):
    """The process did not answer as a console chat should; carries what it did say."""


class _Pump(threading.Thread):
    """Reads a pipe into a buffer until end of file, so the test never blocks on a read."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__(daemon=True)
        self._fd = stream.fileno()
        self._buffer = bytearray()
        self._changed = threading.Condition()
        self.eof = False
        self.everything = bytearray()  # for post-mortems

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except OSError:
                chunk = b""
            with self._changed:
                if chunk:
                    self._buffer += chunk
                    self.everything += chunk
                else:
                    self.eof = True
                self._changed.notify_all()
            if not chunk:
                return

    def take_when(self, done: Callable[[bytes], bool], timeout: float) -> bytes | None:
        """Wait until `done(buffer)` or end of file; return and clear the buffer, None on timeout."""
        with self._changed:
            finished = self._changed.wait_for(
                lambda: self.eof or done(bytes(self._buffer)), timeout
            )
            if not finished:
                return None
            data = bytes(self._buffer)
            self._buffer.clear()
            return data

    def pending(self) -> bytes:
        with self._changed:
            return bytes(self._buffer)


def _ends_with_prompt(data: bytes) -> bool:
    # The console writes each reply followed by the next prompt; a reply never ends a line with
    # "> ", so a buffer whose last line is exactly the prompt is a complete answer.
    return data == PROMPT.encode() or data.endswith(b"\n" + PROMPT.encode())


class Console:
    """One running `koopbot chat`; `say` returns the reply to one line."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], cwd: Path) -> None:
        self.argv = list(argv)
        self.process = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self._out = _Pump(self.process.stdout)
        self._err = _Pump(self.process.stderr)
        self._out.start()
        self._err.start()
        self.banner = self._until_prompt("(start-up)")

    @property
    def stderr(self) -> str:
        return bytes(self._err.everything).decode("utf-8", errors="replace")

    def say(self, line: str, *, allow_sorry: bool = False) -> str:
        """Type one line and return the reply, without the trailing newline and prompt."""
        leftover = self._out.pending()
        if leftover:
            raise self._error(f"unprompted output before {line!r}: {leftover!r}")
        self._write(line + "\n")
        reply = self._until_prompt(line)
        if not allow_sorry and _SORRY in reply:
            raise self._error(f"internal error answering {line!r}: {reply}")
        return reply

    def end(self, command: str = "/ende") -> str:
        """Say goodbye; return the last words and check the process exits with 0."""
        self._write(command + "\n")
        return self.wait_for_exit()

    def close_input(self) -> str:
        """End of input, as Ctrl-D at a terminal; return the last words after the exit."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.wait_for_exit()

    def wait_for_exit(self) -> str:
        rest = self._out.take_when(lambda _: False, REPLY_TIMEOUT)
        if rest is None:
            raise self._error("still running after the end of the conversation")
        try:
            code = self.process.wait(REPLY_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise self._error("closed stdout but did not exit") from None
        if code != 0:
            raise self._error(f"exit status {code}")
        return rest.decode("utf-8")

    def kill(self) -> None:
        """Stop the process if it still runs and release its pipes (fixture finalizers)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(REPLY_TIMEOUT)
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        self._out.join(REPLY_TIMEOUT)
        self._err.join(REPLY_TIMEOUT)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def _write(self, text: str) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(text.encode("utf-8"))
            self.process.stdin.flush()
        except BrokenPipeError:
            raise self._error(f"stdin closed before {text!r}") from None

    def _until_prompt(self, after: str) -> str:
        data = self._out.take_when(_ends_with_prompt, REPLY_TIMEOUT)
        if data is None:
            raise self._error(f"no prompt within {REPLY_TIMEOUT:.0f} s after {after!r}")
        if not _ends_with_prompt(data):
            raise self._error(f"output ended without a prompt after {after!r}: {data!r}")
        return data.decode("utf-8").removesuffix(PROMPT).removesuffix("\n")

    def _error(self, what: str) -> ConsoleError:
        return ConsoleError(
            f"{' '.join(self.argv[1:])}: {what}\n"
            f"--- stdout so far ---\n{bytes(self._out.everything).decode('utf-8', 'replace')}\n"
            f"--- stderr ---\n{self.stderr}"
        )


class Installation:
    """koopbot with its own data directory, run as subprocesses of this test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KOOPBOT_")}
        # A UTF-8 terminal, as the users have; the replies carry umlauts, dashes and emoji.
        self.env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8", KOOPBOT_DATA_DIR=str(self.data_dir))
        self.consoles: list[Console] = []

    def run(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run one `koopbot` command to completion."""
        return subprocess.run(
            [str(KOOPBOT), *args],
            input=input,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env={**self.env, **(env or {})},
            cwd=self.root,
            timeout=60,
            check=False,
        )

    def demo(self) -> dict[str, str]:
        """`koopbot demo`: the invite code of every demo person not yet registered, by Kürzel."""
        result = self.run("demo")
        assert result.returncode == 0, result.stderr
        return parse_demo_codes(result.stdout)

    def chat(self, user: str, *extra: str, env: dict[str, str] | None = None) -> Console:
        console = Console(
            [str(KOOPBOT), "chat", "--user", user, *extra],
            {**self.env, **(env or {})},
            self.root,
        )
        self.consoles.append(console)
        return console

    def registered(self, user: str, code: str) -> Console:
        """A chat whose user has just registered with `code`."""
        console = self.chat(user)
        reply = console.say(f"/start {code}")
        assert reply.startswith("Willkommen, "), reply
        return console

    def log(self) -> str:
        path = self.data_dir / "koopbot.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def shut_down(self) -> list[str]:
        """Kill what still runs; return the problems the processes reported on the way."""
        problems = []
        for console in self.consoles:
            console.kill()
            if "Traceback" in console.stderr:
                problems.append(f"{' '.join(console.argv[1:])} wrote:\n{console.stderr}")
        if " ERROR " in self.log():
            problems.append(f"koopbot.log has errors:\n{self.log()}")
        return problems


def parse_demo_codes(stdout: str) -> dict[str, str]:
    """Kürzel -> invite code from the lines `  K7QF-3MNA-PX2R  Mara Koch (MK), Träger, ...`."""
    codes = {}
    for line in stdout.splitlines():
        if (m := _DEMO_LINE.match(line)) and INVITE_CODE.fullmatch(m["code"]):
            codes[m["handle"]] = m["code"]
    return codes


def split_transcript(stdout: str) -> list[str]:
    """A whole piped session: the banner, then one entry per answered line."""
    return re.split(r"(?:^|\n)> ", stdout)
