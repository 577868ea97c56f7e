"""A longer Hypothesis search than CI's: every registered command as every role and a stranger.

    .venv/bin/python bench/property_search.py [EXAMPLES_PER_COMMAND] [--seed N]

Prints the examples run, the time taken, and each command whose property failed with the
smallest failing input Hypothesis found (the same checks as tests/property/).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import bot.commands  # noqa: F401
from bot.registry import REGISTRY
from tests.property.strategies import PRIVATE, Line, command_line, free_line
from tests.property.test_every_command import WHO, check
from tests.property.world import build_world


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("examples", nargs="?", type=int, default=500)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    run_seed = args.seed if args.seed is not None else random.randrange(2**32)
    world = build_world(Path(tempfile.mkdtemp(prefix="koopbot-property-")))
    config = settings(
        max_examples=args.examples,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    failures: list[tuple[str, str]] = []
    started = time.perf_counter()
    targets = [(c.name, command_line(c)) for c in REGISTRY.commands] + [
        ("(free text)", free_line())
    ]
    for name, strategy in targets:

        @seed(run_seed)
        @config
        @given(line=strategy, who=st.sampled_from(WHO), private=PRIVATE)
        def run(line: Line, who: str, private: bool) -> None:
            check(world, who, line, private)

        try:
            run()
        except Exception as exc:  # one failing property per command, shrunk by Hypothesis
            failures.append((name, " ".join(f"{exc!r}".split())[:400]))
    elapsed = time.perf_counter() - started
    print(
        f"seed {run_seed}: {world.examples} examples over {len(targets)} targets in {elapsed:.0f} s"
    )
    print(f"failures: {len(failures)}")
    for name, message in failures:
        print(f"  {name}: {message}")
    world.db.dispose()
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
