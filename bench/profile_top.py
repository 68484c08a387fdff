"""Top entries of a py-spy folded profile (`py-spy record -f raw -o FILE`).

    python bench/profile_top.py FILE [N] [--requests]

Prints the N (default 25) functions with the most samples on-CPU at the top of the stack
("self") and anywhere on the stack ("total"), as % of all samples. --requests keeps only the
samples of bench/asgi_cpu.py's requests: under its event loop, and not in an import, the
app's start-up or the tables' reset.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def short(frame: str) -> str:
    # "func (path/to/module.py:123)" -> "func (module.py)": lines differ per call site.
    name, _, where = frame.partition(" (")
    file = where.rstrip(")").rsplit(":", 1)[0]
    parts = file.split("/site-packages/")[-1].split("/")
    return f"{name} ({'/'.join(parts[-2:])})"


def package(frame: str) -> str:
    """The library a frame belongs to: py-spy shortens paths to "pkg/module.py:line"."""
    where = frame.partition(" (")[2].rstrip(")")
    top = where.split("/")[0] if "/" in where else where.split(":")[0]
    if top == "backend":
        return "backend (our code)"
    if top in {"asyncio", "concurrent", "wsgiref", "weakref.py", "contextlib.py", "json"}:
        return f"stdlib ({top.removesuffix('.py')})"
    return top or frame


START_UP = ("_find_and_load", "LifespanManager", "open_engine", "startup", "RESET", "reset")


def of_requests(frames: list[str]) -> bool:
    under_loop = any("Runner.run" in f for f in frames)
    return under_loop and not any(s in f for f in frames for s in START_UP)


def main(argv: list[str]) -> int:
    requests_only = "--requests" in argv
    argv = [a for a in argv if a != "--requests"]
    stacks = load(Path(argv[1]))
    if requests_only:
        stacks = [(f, c) for f, c in stacks if of_requests(f)]
    n = int(argv[2]) if len(argv) > 2 else 25
    total = sum(c for _, c in stacks) or 1
    own: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    # py-spy --subprocesses puts a "process N:..." root frame on every stack; a stack that is
    # ends in one is a sampled idle process (parent or worker): not CPU spent in Python.
    stacks = [(f, c) for f, c in stacks if not f[-1].startswith("process ")]
    total = sum(c for _, c in stacks) or 1
    for frames, count in stacks:
        names = [short(f) for f in frames]
        own[names[-1]] += count
        by_package[package(frames[-1])] += count
        for name in set(names):
            incl[name] += count
    print(f"{total} samples")
    print("\nself %   package (where the CPU was spent)")
    for name, c in by_package.most_common(n):
        print(f"{100 * c / total:6.1f}   {name}")
    print("\nself %   function")
    for name, c in own.most_common(n):
        print(f"{100 * c / total:6.1f}   {name}")
    print("\ntotal %  function")
    for name, c in incl.most_common(n):
        print(f"{100 * c / total:6.1f}   {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
