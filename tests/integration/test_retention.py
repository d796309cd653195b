"""`abis sweep` against a live service: expired datasets go, extended ones stay, searches stop
hitting the erased ones at once, the sweep is audited and erased keys are shredded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.factories import new_person_seed, transmission
from tests.service_process import RunningService, cli


def _wrapped_key(database_url: str, reference: str) -> bytes:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        key = connection.execute(text("SELECT wrapped_key FROM datasets WHERE "
                                      "reference_number = :r"), {"r": reference}).scalar_one()
    engine.dispose()
    return bytes(key)


def test_sweep_extension_and_shredding(service: RunningService, database_url: str) -> None:
    kept, lapsed = new_person_seed(), new_person_seed()
    with service.client("SE") as sweden, service.client("FI") as finland, \
            service.client("EU", "supervisor") as edps:
        extended = sweden.post("/v1/transmissions", json=transmission("SE", 0, person=kept))
        expiring = sweden.post("/v1/transmissions", json=transmission("SE", 0, person=lapsed))
        assert extended.status_code == expiring.status_code == 201
        until = dt.date.fromisoformat(expiring.json()["retention_until"])
        reference = extended.json()["reference_number"]
        again = sweden.post(f"/v1/datasets/{reference}/extend")
        assert again.status_code == 200
        assert again.json()["retention_until"] == (until.replace(year=until.year + 1)).isoformat()
        applicant = sweden.post("/v1/transmissions", json=transmission("SE", 1,
                                                                       person=new_person_seed()))
        not_extendable = sweden.post(f"/v1/datasets/{applicant.json()['reference_number']}"
                                     "/extend")
        assert not_extendable.status_code == 422
        gone = expiring.json()["reference_number"]
        key = _wrapped_key(database_url, gone)

        swept = cli(service.env, "sweep", "--today", (until + dt.timedelta(days=1)).isoformat())
        assert swept.returncode == 0, swept.stderr
        assert "erased 1 " in swept.stdout

        assert sweden.get(f"/v1/datasets/{gone}").status_code == 404
        assert sweden.get(f"/v1/datasets/{reference}").status_code == 200
        search = finland.post("/v1/transmissions",
                              json=transmission("FI", 1, person=lapsed, capture=2))
        assert search.json()["result"] == "no_hit"  # at once, though the index still held it
        history = edps.get(f"/v1/audit/datasets/{gone}").json()["events"]
        operations = [event["event"]["operation"] for event in history]
        # Stored, expired by the sweep, then the refused read above: all on the record.
        assert operations == ["dataset:transmit", "dataset:expire", "dataset:read"]
        assert edps.get("/v1/audit/verify").json()["ok"] is True
    if database_url.startswith("sqlite:///"):
        database = Path(database_url.removeprefix("sqlite:///"))
        on_disk = b"".join(path.read_bytes() for path in database.parent.iterdir())
        assert key not in on_disk  # secure_delete: the data key is shredded, not just unlinked
