"""The README's "Try it" and the docs' examples, run as written against a real server.

"Try it" runs twice: it must work every time, not only on an empty gallery, and must leave
no file in the repository.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service_process import RunningService, free_port

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "docs" / "examples"
README_URL = "http://127.0.0.1:8000"


def _clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ABIS_")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def dev_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """What `make run` starts: dev mode, SQLite in a data directory (here a temporary one)."""
    data = tmp_path_factory.mktemp("abis-data")
    service = RunningService(env=_clean_env(ABIS_DEV="true", ABIS_DATA_DIR=str(data),
                                            ABIS_LOG_LEVEL="WARNING"), port=free_port())
    service.start()
    try:
        yield service
    finally:
        service.stop()


def _run(command: list[str], env: dict[str, str]) -> list[Any]:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def try_it() -> str:
    """The shell block of the README's "Try it" section, as a reader would paste it."""
    section = (ROOT / "README.md").read_text().split("\n## Try it", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def test_try_it_works_twice_and_leaves_no_file(dev_service: RunningService) -> None:
    script = try_it()
    assert README_URL in script
    script = script.replace(README_URL, dev_service.url)
    # The second terminal of the README: only the data directory is shared with `make run`.
    env = _clean_env(ABIS_DATA_DIR=dev_service.env["ABIS_DATA_DIR"])
    before = set(ROOT.iterdir())
    references = set()
    for _ in range(2):
        italy, germany = _run(["bash", "-euo", "pipefail", "-c", script], env)
        assert italy["stored"] is True
        assert germany["result"] == "hit"
        hit = next(h for h in germany["hits"] if h["reference_number"] == italy["reference_number"])
        assert (hit["member_state"], hit["category"]) == ("IT", 2)
        assert germany["secondary_movement"]["member_states"] == ["IT"]
        assert germany["responsibility"]["member_state"] == "IT"
        references |= {italy["reference_number"], germany["reference_number"]}
    assert len(references) == 4  # fresh reference numbers on each run
    assert set(ROOT.iterdir()) == before


def test_the_curl_example(dev_service: RunningService) -> None:
    env = _clean_env(ABIS_URL=dev_service.url, IT_KEY=dev_service.key("IT"),
                     DE_KEY=dev_service.key("DE"),
                     PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    italy, germany, read_back, refused = _run(["bash", str(EXAMPLES / "transmit.sh")], env)
    assert italy["stored"] is True
    assert germany["result"] == "hit"
    assert italy["reference_number"] in {hit["reference_number"] for hit in germany["hits"]}
    assert germany["responsibility"]["member_state"] == "IT"
    assert read_back["reference_number"] == italy["reference_number"]
    assert (refused["status"], refused["type"]) == (404, "/problems/not-found")


def test_the_python_example(dev_service: RunningService) -> None:
    env = _clean_env(ABIS_URL=dev_service.url, IT_KEY=dev_service.key("IT"))
    done = subprocess.run([sys.executable, str(EXAMPLES / "transmit.py")], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["201 no_hit stored", "409 /problems/duplicate-reference-number "
                         "Reference number already stored"]
    assert re.fullmatch(r"200 IT2PY[0-9A-F]{12}", lines[2])
    assert len(lines) == 3
