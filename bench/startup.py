"""How long a person waits for `koopbot chat`: launch to the first prompt, to the first reply.

Runs the installed console script (next to this interpreter) against a demo database in a
temporary directory, N times, and prints medians, the spread, and the peak RSS of the process.

    .venv/bin/python bench/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

KOOPBOT = Path(sys.executable).with_name("koopbot")
TIMEOUT = 30.0


@dataclass
class Run:
    to_prompt: float  # seconds from Popen to the first "> "
    help_reply: float  # seconds from writing /hilfe to the next "> "
    peak_rss_kib: int | None  # VmHWM of the chat process, read before it exits
    cpu: float  # user + system seconds of the whole process; less sensitive to a busy machine


def _read_until_prompt(process: subprocess.Popen[bytes]) -> bytes:
    assert process.stdout is not None
    fd = process.stdout.fileno()
    buffer = b""
    deadline = time.perf_counter() + TIMEOUT
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while not (buffer == b"> " or buffer.endswith(b"\n> ")):
            left = deadline - time.perf_counter()
            if left <= 0 or not selector.select(left):
                raise RuntimeError(f"no prompt within {TIMEOUT} s; got {buffer!r}")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"koopbot exited before the prompt; got {buffer!r}")
            buffer += chunk
    return buffer


def _peak_rss_kib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(m[1]) if m else None


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(env: dict[str, str], cwd: Path) -> Run:
    cpu_before = _children_cpu()
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(KOOPBOT), "chat", "--user", "bench"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
    )
    assert process.stdin is not None
    try:
        _read_until_prompt(process)
        prompt = time.perf_counter()
        process.stdin.write(b"/hilfe\n")
        process.stdin.flush()
        sent = time.perf_counter()
        reply = _read_until_prompt(process)
        replied = time.perf_counter()
        if b"Das kannst du tun:" not in reply:
            raise RuntimeError(f"/hilfe did not answer with the help text: {reply!r}")
        rss = _peak_rss_kib(process.pid)
        process.stdin.write(b"/ende\n")
        process.stdin.flush()
        process.wait(TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return Run(prompt - start, replied - sent, rss, _children_cpu() - cpu_before)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def _summary(label: str, values: list[float]) -> None:
    print(
        f"{label:<34} median {_ms(statistics.median(values))}   "
        f"min {_ms(min(values))}   max {_ms(max(values))}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if not KOOPBOT.exists():
        print(f"{KOOPBOT} not found: install the project into this venv", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="koopbot-bench-") as tmp:
        root = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KOOPBOT_")}
        env.update(KOOPBOT_DATA_DIR=str(root / "data"), LC_ALL="C.UTF-8")

        began = time.perf_counter()
        demo = subprocess.run(
            [str(KOOPBOT), "demo"], env=env, cwd=root, capture_output=True, text=True, check=True
        )
        demo_seconds = time.perf_counter() - began
        code = re.search(r"^\s+(\S+)\s+Jonas Berg \(JB\)", demo.stdout, re.M)
        assert code, demo.stdout
        # Register the console user once, so /hilfe below is the full help of a member.
        subprocess.run(
            [str(KOOPBOT), "chat", "--user", "bench"],
            input=f"/start {code[1]}\n/ende\n",
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
        interpreter = []
        for _ in range(3):
            began = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            interpreter.append(time.perf_counter() - began)

        runs = [one_run(env, root) for _ in range(args.runs)]

    launch_to_reply = [r.to_prompt + r.help_reply for r in runs]
    print(f"koopbot chat start-up, {args.runs} runs, demo database (SQLite), {sys.platform}")
    print(f"{'(koopbot demo, once, for reference)':<34} {_ms(demo_seconds)}")
    _summary("(bare interpreter: python -c pass)", interpreter)
    _summary("launch -> first prompt", [r.to_prompt for r in runs])
    _summary("/hilfe sent -> reply", [r.help_reply for r in runs])
    _summary("launch -> /hilfe reply", launch_to_reply)
    _summary("CPU of the chat (user+sys, whole)", [r.cpu for r in runs])
    print(f"{'(load average at the end)':<34} {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rss = [r.peak_rss_kib for r in runs if r.peak_rss_kib is not None]
    if rss:
        print(
            f"{'peak RSS of the chat (VmHWM)':<34} median {statistics.median(rss) / 1024:7.1f} MiB"
        )
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(f"{'max RSS of any child (getrusage)':<34}        {children / 1024:7.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
