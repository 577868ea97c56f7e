"""Start-up time and memory of `koopbot scheduler` with 0, 100,000 and 1,000,000 deadlines.

    .venv/bin/python bench/reminder_startup.py [--n 0 100000 1000000]

For each size: a fresh SQLite database with that many open, planned deadlines; then the real
`koopbot scheduler` process is started and timed until its log says the catch-up sweep ran
and the periodic jobs run; its RSS is read from /proc at that moment. Both must not grow
with the number of deadlines (no job per reminder, nothing loaded up front).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reminder_sweep import populate

from config.settings import Settings
from storage.db import Database

KOOPBOT = Path(sys.executable).with_name("koopbot")
READY = "reminder engine ready"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_once(data: Path) -> tuple[float, float]:
    log = data / "koopbot.log"
    log.unlink(missing_ok=True)
    env = {**os.environ, "KOOPBOT_DATA_DIR": str(data), "KOOPBOT_LOG_LEVEL": "INFO"}
    started = time.perf_counter()
    proc = subprocess.Popen([str(KOOPBOT), "scheduler"], env=env, stdout=subprocess.DEVNULL)
    try:
        while True:
            if log.exists() and READY in log.read_text(encoding="utf-8"):
                return time.perf_counter() - started, rss_mb(proc.pid)
            if proc.poll() is not None:
                raise RuntimeError(f"koopbot scheduler exited with {proc.returncode}")
            if time.perf_counter() - started > 120:
                raise RuntimeError("koopbot scheduler did not get ready within 120 s")
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, nargs="+", default=[0, 100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for n in args.n:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp)
            settings = Settings(data_dir=data)
            db = Database(settings.effective_database_url)
            db.upgrade()
            if n:
                populate(db, settings, n, now=datetime.now(ZoneInfo(settings.timezone)))
            db.dispose()
            runs = [start_once(data) for _ in range(args.runs)]
            times = [t for t, _ in runs]
            rss = [r for _, r in runs]
            print(
                f"{n:>9,d} deadlines: start-up to ready median {statistics.median(times):.2f} s "
                f"(min {min(times):.2f}, max {max(times):.2f}), RSS median {statistics.median(rss):.1f} MB"
            )


if __name__ == "__main__":
    main()
