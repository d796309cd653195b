"""Nothing personal is on disk in clear, and the index is rebuilt from the store at startup."""

from __future__ import annotations

import base64
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.factories import new_person_seed, transmission
from tests.service_process import RunningService, cli

KNOWN_NAME = "Zyxwvutsrqname"


def _files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


def _database_dump(database_url: str) -> bytes:
    """Every cell of every table, as bytes, for backends whose files we cannot grep."""
    engine = create_engine(database_url)
    chunks: list[bytes] = []
    with engine.connect() as connection:
        for table in ("datasets", "hits", "api_keys", "quality_refusals"):
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                for cell in row:
                    chunks.append(cell if isinstance(cell, bytes) else str(cell).encode())
    engine.dispose()
    return b"\n".join(chunks)


def test_names_and_templates_are_not_on_disk_in_clear(
    service: RunningService, data_dir: Path, database_url: str
) -> None:
    body = transmission("DE", 1, person=new_person_seed())
    body["person"]["family_name"] = KNOWN_NAME
    template = base64.b64decode(body["biometrics"]["fingers"]["3"])
    with service.client("DE") as germany:
        assert germany.post("/v1/transmissions", json=body).status_code == 201
        # The dataset is stored: reading it back through the API gives the name.
        assert germany.get(f"/v1/datasets/{body['reference_number']}").json()["person"][
            "family_name"] == KNOWN_NAME
    needles = [KNOWN_NAME.encode(), template, template[:64], template[-64:]]
    directories = [data_dir]
    if database_url.startswith("sqlite:///"):  # the database file, its WAL and shared memory
        directories.append(Path(database_url.removeprefix("sqlite:///")).parent)
    haystacks = [path.read_bytes() for folder in directories for path in _files_under(folder)]
    haystacks.append(_database_dump(database_url))
    # The sealed dataset is there: ten 512-byte finger templates and a 2048-byte face.
    assert sum(map(len, haystacks)) > 10 * 512 + 2048
    for needle in needles:
        for haystack in haystacks:
            assert needle not in haystack


def test_restart_rebuilds_the_index_from_the_store(
    service: RunningService, database_url: str
) -> None:
    person = new_person_seed()
    with service.client("LT") as lithuania:
        stored = lithuania.post("/v1/transmissions", json=transmission("LT", 2, person=person))
        assert stored.status_code == 201
    service.stop()
    service.start()
    with service.client("LV") as latvia:
        answer = latvia.post("/v1/transmissions",
                             json=transmission("LV", 1, person=person, capture=2))
        assert answer.json()["result"] == "hit"
        assert answer.json()["hits"][0]["reference_number"] == stored.json()["reference_number"]


def test_service_refuses_to_start_without_a_master_key(tmp_path: Path) -> None:
    from tests.service_process import service_env

    env = service_env(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    del env["ABIS_MASTER_KEY_FILE"]
    done = cli(env, "serve")
    assert done.returncode != 0
    assert "master key" in done.stderr
    env["ABIS_MASTER_KEY"] = "changeme"
    done = cli(env, "serve")
    assert done.returncode != 0
    assert "placeholder" in done.stderr
