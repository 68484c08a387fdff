"""Sustained mixed load and the server's memory: RSS after minute 1 vs the end.

    .venv/bin/python bench/soak.py [--minutes 5] [--clients 16] [--workers 2]

Starts `todoapp serve` (DATABASE_URL, else a throw-away embedded PostgreSQL), runs the
`todoapp loadtest` workload against it for the whole time (its verification included), and
samples the resident memory of the server's process tree every 5 s. Prints the samples and
the growth from minute 1 to the end, writes bench/results/soak-<stamp>.json, and exits 1 if
the growth exceeds --max-growth percent (default 10) or verification fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import results  # noqa: E402  (bench/, this script's folder)

from todoapp_tools import loadtest  # noqa: E402


def process_tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
            for child in children:
                pids += process_tree(int(child))
    except OSError:
        pass
    return pids


def rss_mib(pid: int) -> dict[int, float]:
    """RSS per process of the tree (VmRSS, MiB)."""
    out = {}
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out[p] = int(line.split()[1]) / 1024
        except OSError:
            pass
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_ready(url: str, proc: subprocess.Popen[bytes], limit_s: float = 120) -> None:
    deadline = time.monotonic() + limit_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}")
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)  # polling a starting server
    raise SystemExit("server not ready in time")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group (it drains), SIGKILL if it takes over 30 s."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


async def soak(
    args: argparse.Namespace, proc: subprocess.Popen[bytes], url: str
) -> tuple[loadtest.Report, list[tuple[float, float, dict[int, float]]]]:
    samples: list[tuple[float, float, dict[int, float]]] = []
    await wait_ready(url, proc)
    total = args.minutes * 60
    start = time.monotonic()

    async def sample() -> None:
        while True:
            per = rss_mib(proc.pid)
            samples.append((round(time.monotonic() - start, 1), sum(per.values()), per))
            await asyncio.sleep(args.interval)  # sampling period

    sampler = asyncio.create_task(sample())
    report = await loadtest.run(url, args.clients, total, progress=sys.stderr)
    sampler.cancel()
    end = rss_mib(proc.pid)  # after the load and the verification reads
    samples.append((round(time.monotonic() - start, 1), sum(end.values()), end))
    return report, samples


def main(args: argparse.Namespace) -> int:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, WORKERS=str(args.workers), LOG_LEVEL="WARNING")
    data_dir = None
    if not env.get("DATABASE_URL"):
        data_dir = tempfile.mkdtemp(prefix="todoapp-soak-")
        env["TODOAPP_DATA_DIR"] = data_dir
    proc = subprocess.Popen(
        [str(REPO / ".venv/bin/todoapp"), "serve", "--port", str(port)],
        env=env,
        start_new_session=True,
    )
    try:
        report, samples = asyncio.run(soak(args, proc, url))
    finally:
        stop(proc)
        if data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)

    at_1 = min(samples, key=lambda s: abs(s[0] - 60))
    # The end of the load (the verification reads follow it).
    last = min(samples, key=lambda s: abs(s[0] - args.minutes * 60))
    growth = 100 * (last[1] - at_1[1]) / at_1[1]
    print(loadtest.format_report(report))
    print("\nt (s)   RSS of the server's process tree (MiB)")
    for t, total_mib, _ in samples[:: max(1, len(samples) // 20)]:
        print(f"{t:6.0f}  {total_mib:8.1f}")
    print(
        f"\nRSS at {at_1[0]:.0f} s: {at_1[1]:.1f} MiB; at {last[0]:.0f} s: {last[1]:.1f} MiB; "
        f"growth {growth:+.1f}% (limit {args.max_growth:g}%)"
    )
    results.save(
        "soak",
        {
            "args": vars(args),
            "rss_mib": [(t, m) for t, m, _ in samples],
            "growth_pct": growth,
            "report": json.loads(report.to_json()),
        },
    )
    return 0 if report.ok and growth <= args.max_growth else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--interval", type=float, default=5)
    parser.add_argument("--max-growth", type=float, default=10)
    raise SystemExit(main(parser.parse_args()))
