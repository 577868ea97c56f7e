"""The three-process test (three schedulers on PostgreSQL, both cores busy) several times in a
row (issue 11): every run must send each of its 600 reminders exactly once.

    .venv/bin/python bench/reminder_stress.py [--runs 10]

Prints each run's result and time, and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/integration/test_reminder_processes.py::test_three_processes_send_each_reminder_once"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    passed = 0
    for run in range(1, runs + 1):
        load = os.getloadavg()[0]
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        ok = result.returncode == 0
        passed += ok
        tail = result.stdout.strip().splitlines()[-1:] or [""]
        print(
            f"run {run}: {'passed' if ok else 'FAILED'} in {elapsed:.0f} s, load {load:.1f}; {tail[0]}"
        )
        if not ok:
            print(result.stdout[-3000:])
    print(f"{passed}/{runs} runs passed")
    sys.exit(0 if passed == runs else 1)


if __name__ == "__main__":
    main()
