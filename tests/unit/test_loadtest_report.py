"""The load-test verdict: any failed request, 5xx or unaudited request fails the run."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from loadtests.run import _report

_HEADER = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
           "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
           "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n")
_HISTORY = ("Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,"
            "99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count\n")


def _write(out: Path, failures: int, status: dict[str, dict[str, int]]) -> Path:
    row = "{t},{n},10,{f},20,20,5,40,100,5.0,0.0,20,20,20,30,30,40,40,40,40,40,40\n"
    (out / "abis_stats.csv").write_text(
        _HEADER + row.format(t="POST", n="POST /v1/transmissions", f=failures)
        + row.format(t="", n="Aggregated", f=failures))
    (out / "abis_stats_history.csv").write_text(
        _HISTORY + "1000,4,POST,POST /v1/transmissions,5,0,20,20,20,30,30,40,40,40,40,40,40,5,0\n"
        + "1001,4,,Aggregated,5,0,20,20,20,30,30,40,40,40,40,40,40,10,0\n")
    tally = out / "tally.json"
    tally.write_bytes(orjson.dumps({"status": status, "hits": {}, "failures": {}}))
    return tally


@pytest.mark.parametrize(
    ("failures", "status", "audited", "passes"),
    [
        (0, {"POST /v1/transmissions": {"201": 10}}, 10, True),
        (0, {"POST /v1/transmissions": {"201": 9, "500": 1}}, 10, False),
        (0, {"POST /v1/transmissions": {"201": 9, "0": 1}}, 10, False),  # connection error
        (1, {"POST /v1/transmissions": {"201": 10}}, 10, False),
        (0, {"POST /v1/transmissions": {"201": 10}}, 9, False),  # one request not audited
    ],
)
def test_the_verdict(tmp_path: Path, failures: int, status: dict[str, dict[str, int]],
                     audited: int, passes: bool) -> None:
    tally = _write(tmp_path, failures, status)
    code, figures, _ = _report(tmp_path, tally, audited, cpu=1.0, wall=10.0)
    assert (code == 0) is passes
    assert figures["service_cores"] == 0.1
    assert (tmp_path / "throughput_latency.png").stat().st_size > 0
    assert "POST /v1/transmissions" in (tmp_path / "summary.md").read_text()
