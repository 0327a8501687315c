"""Print the recorded results (benchmarks/results/*.json) as the Markdown tables of docs/performance.md."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness import RESULTS


def load(name: str, directory: Path = RESULTS) -> dict[str, Any] | None:
    path = directory / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def spread_cell(leaf: dict[str, Any]) -> str:
    return f"{leaf['median']:.2f} ({leaf['min']:.2f} to {leaf['max']:.2f})"


def repeats(r: dict[str, Any]) -> str:
    """The ratios of `run.py --repeat N` (floor, compare): each one's median over the runs, and its range."""
    spread = r.get("repeats")
    if not spread:
        return ""
    if r["benchmark"] == "floor":
        count = len(next(iter(spread.values()))["runs"])
        rows = [f"| Endpoint | Ratio to whoami over {count} runs: median (range) |", "| --- | --- |"]
        rows += [f"| {name} | {spread_cell(leaf)} |" for name, leaf in spread.items()]
    else:
        workers = list(spread)
        first = next(iter(spread[workers[0]].values()))
        header = " | ".join(f"{w} workers" for w in workers)
        rows = [
            f"| Phase (ratio over {len(first['runs'])} runs: median (range)) | {header} |",
            "| --- |" + " --- |" * len(workers),
        ]
        for phase in spread[workers[0]]:
            rows.append(f"| {phase} | " + " | ".join(spread_cell(spread[w][phase]) for w in workers) + " |")
    return "\n\nThe tables above are the last run's.\n\n" + "\n".join(rows)


def machine_line(result: dict[str, Any]) -> str:
    m = result["machine"]
    load = ", ".join(str(x) for x in m["load_average_at_start"])
    return (
        f"{m['cpu']}, {m['cores']} cores, {m['memory']} RAM, Python {m['python']}, PostgreSQL {m['postgresql']}; "
        f"{m['date']}, load average {load} at start; `{result['command']}`"
    )


def floor(r: dict[str, Any]) -> str:
    rows = ["| Endpoint | Median | p90 | Ratio to whoami (target ≤ 1.3) |", "| --- | --- | --- | --- |"]
    names = {"whoami": "`GET /api/whoami`", "lookup": '`GET /Users?filter=userName eq "…"`', "get": "`GET /Users/{id}`"}
    for key, label in names.items():
        ratio = r["ratio_to_whoami"].get(key, 1.0)
        rows.append(f"| {label} | {r['median_ms'][key]:.2f} ms | {r['p90_ms'][key]:.2f} ms | {ratio:.2f} |")
    return "\n".join(rows)


def scale(r: dict[str, Any]) -> str:
    rows = ["| Call | 1k realm | 100k realm | Ratio (target ≤ 1.2) |", "| --- | --- | --- | --- |"]
    for name, small in r["median_ms"]["1k"].items():
        large = r["median_ms"]["large"][name]
        rows.append(f"| {name} | {small:.1f} ms | {large:.1f} ms | {r['ratio_large_to_1k'][name]:.2f} |")
    return "\n".join(rows)


def compare(r: dict[str, Any]) -> str:
    rows = [
        "| Workers | Phase | Ours (req/s) | django-scim2 (req/s) | Ratio |",
        "| --- | --- | --- | --- | --- |",
    ]
    for workers, run in r["runs"].items():
        for name, p in run["phases"].items():
            rows.append(
                f"| {workers} | {name} | {p['ours_rps']:.0f} | {p['django_scim2_rps']:.0f} | {p['ratio']:.2f} |"
            )
    cpu_rows = [
        (workers, name, p["ours"]["cpu_ms_per_request"], p["django_scim2"]["cpu_ms_per_request"])
        for workers, run in r["runs"].items()
        for name, p in run["phases"].items()
        if "cpu_ms_per_request" in p["ours"]
    ]
    if cpu_rows:
        rows += [
            "",
            "CPU per request (ms), ours / django-scim2: the server's workers, PostgreSQL, the load generator; the "
            "server's ratio is theirs over ours.",
            "",
            "| Workers | Phase | Server | PostgreSQL | Client | Total | Server ratio |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for workers, name, o, t in cpu_rows:
            total_o, total_t = sum(o.values()), sum(t.values())
            ratio = t["server"] / o["server"] if o["server"] else 0.0
            rows.append(
                f"| {workers} | {name} | {o['server']:.2f} / {t['server']:.2f} | {o['postgresql']:.2f} / "
                f"{t['postgresql']:.2f} | {o['client']:.2f} / {t['client']:.2f} | {total_o:.2f} / {total_t:.2f} | "
                f"{ratio:.2f} |"
            )
    rss = {w: run["peak_rss_mib_per_worker"] for w, run in r["runs"].items()}
    rows.append("")
    rows.append(
        "Peak memory per worker: "
        + "; ".join(
            f"{w} workers: ours {max(v['ours']):.0f} MiB, django-scim2 {max(v['django_scim2']):.0f} MiB"
            for w, v in rss.items()
        )
        + "."
    )
    return "\n".join(rows)


def okta(r: dict[str, Any]) -> str:
    rows = [
        "| Workers | Push: wall time | Push: req/s | Import: wall time (pages) | Peak RSS per worker |",
        "| --- | --- | --- | --- | --- |",
    ]
    for workers, run in r["runs"].items():
        peaks = ", ".join(f"{x:.0f}" for x in run["peak_rss_mib_per_worker"])
        rows.append(
            f"| {workers} | {run['push_seconds']:.0f} s | {run['push_rps']:.0f} | "
            f"{run['import_seconds']:.1f} s ({run['import_pages']}) | {peaks} MiB |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS, help="directory of the results (run.py --results)")
    args = parser.parse_args()
    renders = (
        ("floor", floor),
        ("scale", scale),
        ("compare", compare),
        ("compare-their-defaults", compare),
        ("compare-sqlite", compare),
    )
    for name, render in (*renders, ("okta", okta)):
        result = load(name, args.results)
        if result is None:
            continue
        print(f"### {name}\n\n{render(result)}{repeats(result)}\n\n{machine_line(result)}\n", file=sys.stdout)


if __name__ == "__main__":
    main()
