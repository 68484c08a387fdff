"""Markdown tables from bench.py JSON results: `python bench/table.py results/X.json [Y.json]`.

Several files (runs with the same settings, e.g. one that stopped early and its completion)
are merged: their runs are pooled and the medians recomputed, servers in the first file's
order, ratios relative to its first server.

Per connection count, one row per server and columns per scenario (req/s, p50, p99, ratio to
the first server, which run.sh makes todoapp), then the machine and versions the run saw.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _cell(row: dict[str, Any]) -> list[str]:
    ratio = row.get("ratio_vs_first")
    return [
        f"{row['rps_median']:.0f}",
        f"{row['p50_ms_median']:.1f}",
        f"{row['p99_ms_median']:.1f}",
        f"{ratio:.2f}" if ratio is not None else "-",
    ]


def _reps(summary: list[dict[str, Any]], planned: int) -> str:
    done = sorted({r["reps"] for r in summary})
    if done == [planned]:
        return f"{planned} reps"
    return f"{'-'.join(str(d) for d in (done[0], done[-1]) if done)} of {planned} planned reps"


def render(data: dict[str, Any]) -> str:
    meta = data["meta"]
    summary = data["summary"]
    scenarios: list[str] = meta["scenarios"]
    servers = [s["name"] for s in meta["servers"]]
    lines: list[str] = []
    # One lookup table for both tables: (server, scenario, connections) -> summary row.
    rows = {(r["server"], r["scenario"], r["connections"]): r for r in summary}
    for conns in meta["connections"]:
        lines.append(f"### {conns} connections\n")
        head = ["server"]
        for scen in scenarios:
            head += [f"{scen} req/s", "p50 ms", "p99 ms", "ratio"]
        head += ["non-2xx", "sock err"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
        for name in servers:
            cells = [name]
            non2xx = sockerr = 0
            for scen in scenarios:
                row = rows.get((name, scen, conns))
                if row is None:
                    cells += ["-"] * 4
                    continue
                cells += _cell(row)
                non2xx += row["non2xx"]
                sockerr += row["socket_errors"]
            cells += [str(non2xx), str(sockerr)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines.append(
        "Server CPU per request (µs, median runs; the server's process tree, PostgreSQL "
        "excluded): less sensitive to other jobs on the machine than req/s.\n"
    )
    head = ["server"] + [f"{scen} c={c}" for c in meta["connections"] for scen in scenarios]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
    for name in servers:
        cells = [name]
        for conns in meta["connections"]:
            for scen in scenarios:
                row = rows.get((name, scen, conns))
                cells.append(
                    f"{row['cpu_server_pct'] / 100 / row['rps_median'] * 1e6:.0f}"
                    if row and row["rps_median"]
                    else "-"
                )
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    host = meta["host"]
    noisy = sum(r.get("noisy_runs", 0) for r in summary)
    runs = sum(r["reps"] for r in summary)
    lines.append(
        f"Machine: {host['nproc']} CPUs ({host['cpu']}), {host['mem_gib']} GiB RAM, "
        f"{host['platform']}, Python {host['python']}; "
        f"{meta.get('postgres', '?').split(' on ')[0]}; {meta['wrk']}; "
        f"{meta['duration_s']:g} s per run, {_reps(summary, meta['reps'])} (medians), "
        f"synchronous_commit={meta['synchronous_commit']}, pin={meta['pin']['preset']}; "
        f"{noisy}/{runs} accepted runs still noisy, "
        f"{len(data.get('discarded_noisy_runs', []))} noisy runs discarded and retried."
    )
    if data.get("interrupted"):
        lines.append(f"\n**Partial:** {data['interrupted']}")
    for f in data.get("failures", []):
        lines.append(f"\n**Failed:** {f['server']} rep {f['rep']}: {f['error'][:200]}")
    return "\n".join(lines) + "\n"


def merge(datas: list[dict[str, Any]]) -> dict[str, Any]:
    """Pool the runs of several results and recompute the summary like bench.py does."""
    import statistics

    first = datas[0]
    runs = [r for d in datas for r in d["runs"]]
    names = [s["name"] for s in first["meta"]["servers"]]
    for d in datas[1:]:
        names += [s["name"] for s in d["meta"]["servers"] if s["name"] not in names]
    summary = []
    base: dict[tuple[str, int], float] = {}
    for name in names:
        for conns in first["meta"]["connections"]:
            for scen in first["meta"]["scenarios"]:
                mine = [
                    r
                    for r in runs
                    if r["server"] == name and r["scenario"] == scen and r["connections"] == conns
                ]
                if not mine:
                    continue
                row = {
                    "server": name,
                    "scenario": scen,
                    "connections": conns,
                    "reps": len(mine),
                    "rps_median": statistics.median(r["rps"] for r in mine),
                    "p50_ms_median": statistics.median(r["latency_us"]["p50"] for r in mine) / 1000,
                    "p99_ms_median": statistics.median(r["latency_us"]["p99"] for r in mine) / 1000,
                    "non2xx": sum(r["non2xx"] for r in mine),
                    "socket_errors": sum(r["socket_errors"] for r in mine),
                    "cpu_server_pct": statistics.median(r["cpu_pct"]["server"] for r in mine),
                    "noisy_runs": sum(1 for r in mine if r.get("noisy")),
                }
                base.setdefault((scen, conns), row["rps_median"])
                row["ratio_vs_first"] = row["rps_median"] / base[(scen, conns)]
                summary.append(row)
    meta = dict(first["meta"], servers=[{"name": n} for n in names])
    return {
        "meta": meta,
        "summary": summary,
        "discarded_noisy_runs": [r for d in datas for r in d.get("discarded_noisy_runs", [])],
        "failures": [f for d in datas for f in d.get("failures", [])],
        "interrupted": "; ".join(d["interrupted"] for d in datas if d.get("interrupted")),
    }


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: table.py RESULT.json [MORE.json ...]", file=sys.stderr)
        return 2
    datas = [json.loads(Path(p).read_text()) for p in argv[1:]]
    print(render(datas[0] if len(datas) == 1 else merge(datas)), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
