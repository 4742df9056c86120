"""Where a process spends its CPU: py-spy samples the thread holding the GIL, and we sum
the samples by package.

with sampled(pid, "worker", workdir) as profile: ...run load...
print(profile.summary())
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PY_SPY = Path(sys.executable).parent / "py-spy"

# The package a sampled frame belongs to, by the first matching piece of its file path.
PACKAGES = (
    ("workflow sandbox", ("temporalio/worker/workflow_sandbox",)),
    ("temporalio (other)", ("temporalio/",)),
    ("sqlalchemy", ("sqlalchemy/",)),
    ("asyncpg", ("asyncpg/",)),
    ("sqlite", ("aiosqlite/", "sqlite3/")),
    ("pydantic", ("pydantic/", "pydantic_core/")),
    ("fastapi/starlette/uvicorn", ("fastapi/", "starlette/", "uvicorn/", "h11/", "httptools/")),
    ("fpdf (documents)", ("fpdf/", "fontTools/")),
    ("rapidfuzz (screening)", ("rapidfuzz/",)),
    ("accord services", ("/services/",)),
    ("accord workflows", ("/workflows/",)),
    ("protobuf/grpc", ("google/protobuf", "grpc")),
    ("asyncio", ("asyncio/",)),
    ("json", ("json/",)),
    ("logging", ("logging/",)),
)
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _package(file: str) -> str:
    for name, pieces in PACKAGES:
        if any(piece in file for piece in pieces):
            return name
    return "other"


@dataclass
class Profile:
    name: str
    output: Path

    def stacks(self) -> Counter[tuple[str, ...]]:
        counts: Counter[tuple[str, ...]] = Counter()
        if not self.output.exists():
            return counts
        for line in self.output.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                counts[tuple(stack.split(";"))] += int(count)
        return counts

    def summary(self, top: int = 12) -> str:
        stacks = self.stacks()
        total = sum(stacks.values())
        if not total:
            return f"  {self.name}: no samples ({self.output})"
        inclusive: Counter[str] = Counter()
        leaf: Counter[str] = Counter()
        functions: Counter[str] = Counter()
        for stack, count in stacks.items():
            frames = [_FRAME.match(frame) for frame in stack]
            packages = {_package(m["file"]) for m in frames if m}
            for package in packages:
                inclusive[package] += count
            last = frames[-1]
            if last:
                leaf[_package(last["file"])] += count
                functions[f"{last['function']} ({Path(last['file']).name})"] += count
        lines = [f"  {self.name}: {total} samples ({self.output})"]
        lines.append("    by package: self time (time with a frame of it on the stack)")
        for package, count in leaf.most_common(top):
            lines.append(
                f"      {package:<28} {100 * count / total:5.1f}%  "
                f"({100 * inclusive[package] / total:5.1f}%)"
            )
        lines.append("    hottest functions (self time)")
        for function, count in functions.most_common(8):
            lines.append(f"      {100 * count / total:5.1f}%  {function[:90]}")
        return "\n".join(lines)


@contextlib.contextmanager
def sampled(pid: int, name: str, workdir: Path, rate: int = 97) -> Iterator[Profile]:
    """Sample `pid` (and its subprocesses) with py-spy while the block runs."""
    output = workdir / f"profile-{name}.txt"
    spy = subprocess.Popen(
        [
            str(PY_SPY),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--gil",
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=(workdir / f"profile-{name}.log").open("wb"),
    )
    profile = Profile(name, output)
    try:
        yield profile
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
