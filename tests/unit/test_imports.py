"""The house has one direction (issue 17): bot -> scheduler -> storage -> config, no circles.

Every import counts: at module level, inside functions and under TYPE_CHECKING, because a lazy
import that dodges a circle is still a circle in the design.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("config", "storage", "scheduler", "bot")  # each may import only those before it
# The rules of time: the standard library, config and each other, nothing of the database.
PURE = frozenset(
    {
        "scheduler.chain",
        "scheduler.clock",
        "scheduler.controlling",
        "scheduler.controlling_rule",
        "scheduler.deadlines",
        "scheduler.ics",
        "scheduler.oncall",
        "scheduler.reminders",
        "scheduler.rota",
        "scheduler.rota_duties",
        "scheduler.rota_edit",
        "scheduler.tzif",
        "scheduler.vtimezone",
        "scheduler.wallclock",
        "scheduler.workdays",
    }
)
DATABASE_LIBRARIES = frozenset({"sqlalchemy", "sqlmodel", "alembic", "psycopg"})
MAX_LINES = 400


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the four packages by dotted name (migrations included)."""
    found: dict[str, Path] = {}
    for package in LAYERS:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported_names(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every dotted name `name`'s source imports, with its line (relative imports resolved)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield module, node.lineno
            for alias in node.names:  # `from bot import texts` imports the module bot.texts
                yield f"{module}.{alias.name}", node.lineno


def graph(found: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {our module it imports: line}."""
    edges: dict[str, dict[str, int]] = {}
    for name, path in found.items():
        out = edges.setdefault(name, {})
        for target, line in imported_names(name, path):
            while target and target not in found:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.setdefault(target, line)
    return edges


def layer(name: str) -> int:
    return LAYERS.index(name.split(".")[0])


def upward(edges: dict[str, dict[str, int]]) -> list[str]:
    """`module:line imports target` for every import against the direction of the layers."""
    return [
        f"{source}:{line} imports {target}"
        for source, targets in edges.items()
        for target, line in targets.items()
        if layer(target) > layer(source)
    ]


def circles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, {}))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def impure(found: dict[str, Path], edges: dict[str, dict[str, int]]) -> list[str]:
    """`module:line imports target` for every pure rule that reaches beyond the pure rules,
    config and the packages themselves (`from scheduler import tzif` names `scheduler`)."""
    wrong = []
    for name in sorted(PURE & found.keys()):
        for target, line in edges[name].items():
            if not (target in PURE or target in LAYERS or layer(target) == 0):
                wrong.append(f"{name}:{line} imports {target}")
        for target, line in imported_names(name, found[name]):
            if target.split(".")[0] in DATABASE_LIBRARIES:
                wrong.append(f"{name}:{line} imports {target}")
    return sorted(set(wrong))


FOUND = modules()
EDGES = graph(FOUND)


def test_imports_run_one_way_bot_scheduler_storage_config() -> None:
    assert upward(EDGES) == []


def test_no_circle_of_imports_anywhere() -> None:
    assert circles(EDGES) == []


def test_the_rules_of_time_import_nothing_of_the_database() -> None:
    assert sorted(PURE - FOUND.keys()) == []  # the list names modules that exist
    assert impure(FOUND, EDGES) == []


def test_no_module_holds_more_than_about_400_lines() -> None:
    long = {
        name: n
        for name, path in FOUND.items()
        if ".migrations." not in name
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


# The checks themselves, on a small made-up tree: each one fails when it should.


def write(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in LAYERS:
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").touch()
    return modules(root)


def test_an_import_of_the_bot_from_below_is_found(tmp_path: Path) -> None:
    found = write(
        tmp_path,
        {
            "scheduler/engine.py": "def f():\n    from bot.texts import X\n",
            "storage/db.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import bot\n",
            "bot/texts.py": "from scheduler import engine\n",
        },
    )
    assert sorted(upward(graph(found))) == [
        "scheduler.engine:2 imports bot.texts",
        "storage.db:3 imports bot",
    ]


def test_a_circle_is_found_also_through_a_lazy_or_relative_import(tmp_path: Path) -> None:
    found = write(
        tmp_path,
        {
            "bot/runner.py": "from bot import matrix\n",
            "bot/matrix.py": "def f():\n    from .app import App\n",
            "bot/app.py": "from bot.runner import go\n",
            "bot/core.py": "import bot.app\n",
        },
    )
    assert circles(graph(found)) == [["bot.app", "bot.matrix", "bot.runner"]]


def test_a_rule_that_reads_the_database_is_found(tmp_path: Path) -> None:
    found = write(
        tmp_path,
        {
            "scheduler/rota.py": "from sqlmodel import Session\nfrom config.enums import Role\n",
            "scheduler/chain.py": "from scheduler.engine import sweep\nfrom scheduler import rota\n",
            "scheduler/engine.py": "from storage.models import Case\n",
        },
    )
    edges = graph(found)
    assert "scheduler.rota:1 imports sqlmodel" in impure(found, edges)
    assert "scheduler.chain:1 imports scheduler.engine" in impure(found, edges)
    assert not [w for w in impure(found, edges) if "scheduler.rota" in w.split(" ")[-1]]
