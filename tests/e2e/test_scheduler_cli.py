"""`koopbot scheduler` as a process: catches up, runs its jobs, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

KOOPBOT = Path(sys.executable).with_name("koopbot")


def test_scheduler_process_starts_and_stops(tmp_path: Path) -> None:
    env = {**os.environ, "KOOPBOT_DATA_DIR": str(tmp_path), "KOOPBOT_LOG_LEVEL": "INFO"}
    env.pop("KOOPBOT_CONFIG", None)
    subprocess.run([str(KOOPBOT), "demo"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [str(KOOPBOT), "scheduler"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    log = tmp_path / "koopbot.log"
    try:
        deadline = time.monotonic() + 30
        while not (log.exists() and "reminder engine ready" in log.read_text("utf-8")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "not ready within 30 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
