"""Read locust's CSV output: the per-endpoint table, and a PNG of throughput and latency."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Row:
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    maximum: float


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:  # "N/A" before any request
        return 0.0


def read_stats(prefix: Path) -> list[Row]:
    """Rows of `<prefix>_stats.csv`, endpoints first, the aggregate last."""
    rows = []
    with Path(f"{prefix}_stats.csv").open(newline="") as handle:
        for line in csv.DictReader(handle):
            name = line["Name"] if line["Type"] in ("", None) else f"{line['Type']} {line['Name']}"
            if line["Name"] == "Aggregated":
                name = "all requests"
            elif line["Name"].startswith(("GET ", "POST ", "PUT ", "DELETE ", "PATCH ")):
                name = line["Name"]
            rows.append(Row(
                name=name,
                requests=int(line["Request Count"]),
                failures=int(line["Failure Count"]),
                rps=_number(line["Requests/s"]),
                p50=_number(line["50%"]),
                p95=_number(line["95%"]),
                p99=_number(line["99%"]),
                maximum=_number(line["Max Response Time"]),
            ))
    return rows


def markdown_table(rows: list[Row]) -> str:
    lines = ["| endpoint | requests | requests/s | p50 ms | p95 ms | p99 ms | max ms | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row.name} | {row.requests:,} | {row.rps:.1f} | {row.p50:.0f} | "
                     f"{row.p95:.0f} | {row.p99:.0f} | {row.maximum:.0f} | {row.failures} |")
    return "\n".join(lines)


def plot(prefix: Path, target: Path, focus: str = "POST /v1/transmissions") -> None:
    """Requests/s (all, and `focus`) and `focus`'s p50/p95/p99 over time, from the history."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, dict[str, list[float]]] = {}
    start: float | None = None
    with Path(f"{prefix}_stats_history.csv").open(newline="") as handle:
        for line in csv.DictReader(handle):
            name = "all requests" if line["Name"] == "Aggregated" else line["Name"]
            if name not in ("all requests", focus):
                continue
            at = float(line["Timestamp"])
            start = at if start is None else min(start, at)
            data = series.setdefault(name, {k: [] for k in ("t", "rps", "fail", "users", "p50",
                                                             "p95", "p99")})
            data["t"].append(at)
            data["rps"].append(_number(line["Requests/s"]))
            data["fail"].append(_number(line["Failures/s"]))
            data["users"].append(_number(line["User Count"]))
            for key, column in (("p50", "50%"), ("p95", "95%"), ("p99", "99%")):
                data[key].append(_number(line[column]))
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for name, data in series.items():
        seconds = [t - (start or 0) for t in data["t"]]
        top.plot(seconds, data["rps"], label=f"{name} req/s")
        if name == "all requests":
            top.plot(seconds, data["fail"], label="failures/s", color="red")
            users = top.twinx()
            users.plot(seconds, data["users"], color="grey", linestyle=":", label="users")
            users.set_ylabel("users")
        else:
            for key, style in (("p50", "-"), ("p95", "--"), ("p99", ":")):
                bottom.plot(seconds, data[key], style, label=f"{key}")
    top.set_ylabel("requests / s")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    bottom.axhline(100, color="red", linewidth=0.8, alpha=0.5, label="100 ms")
    bottom.set_ylabel(f"{focus} latency, ms")
    bottom.set_xlabel("seconds since start")
    bottom.legend(loc="upper left")
    bottom.grid(alpha=0.3)
    figure.suptitle("abis load test: throughput and latency percentiles (10 s window)")
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    plt.close(figure)
