"""Send a transmission from a border system, read the answer, handle a problem, read back.

Needs ABIS_URL and IT_KEY (an officer key of IT) in the environment, and httpx.
The templates are random vectors: synthetic data only.
"""

import base64
import datetime as dt
import math
import os
import random
import secrets
import struct

import httpx

FINGER_DIM, FACE_DIM = 128, 512  # the service's ABIS_FINGER_DIM and ABIS_FACE_DIM


def template(dim: int, quality: float = 1.0) -> str:
    """Base64 of little-endian float32; the vector's norm is its quality."""
    vector = [random.gauss(0.0, 1.0) for _ in range(dim)]
    scale = quality / math.sqrt(sum(v * v for v in vector))
    return base64.b64encode(struct.pack(f"<{dim}f", *(v * scale for v in vector))).decode()


now = dt.datetime.now(dt.UTC)
body = {
    "reference_number": f"IT2PY{secrets.token_hex(6).upper()}",
    "category": 2,  # irregular crossing of an external border: stored
    "biometrics": {
        "fingers": {str(position): template(FINGER_DIM) for position in range(1, 11)},
        "face": template(FACE_DIM),
    },
    "person": {"family_name": "Nasser", "given_names": "Leila", "nationality": "SYR",
               "date_of_birth": "1994-03-02", "sex": "F"},
    "event": {"place": "border crossing point", "date": now.date().isoformat()},
    "taken_at": (now - dt.timedelta(hours=1)).isoformat(),
    "operator_user_id": "it-officer-7",
}

with httpx.Client(base_url=os.environ["ABIS_URL"], timeout=30,
                  headers={"Authorization": f"Bearer {os.environ['IT_KEY']}"}) as abis:
    answer = abis.post("/v1/transmissions", json=body)
    answer.raise_for_status()
    result = answer.json()
    print(answer.status_code, result["result"], "stored" if result["stored"] else "not stored")

    # The same reference number again: refused with a problem (RFC 9457), nothing changed.
    again = abis.post("/v1/transmissions", json=body)
    assert again.headers["content-type"] == "application/problem+json"
    problem = again.json()
    print(again.status_code, problem["type"], problem["title"])

    # Read the stored dataset back (only the Member State of origin can).
    stored = abis.get(f"/v1/datasets/{body['reference_number']}")
    stored.raise_for_status()
    print(stored.status_code, stored.json()["reference_number"])
