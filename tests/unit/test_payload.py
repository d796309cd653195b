from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.store.payload import DatasetPayload, decode_payload, encode_payload

blobs = st.binary(min_size=4, max_size=64)


@given(
    details=st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=5),
    fingers=st.dictionaries(st.integers(1, 10), blobs, max_size=10),
    face=st.none() | blobs,
)
def test_payload_round_trip(details: dict[str, str], fingers: dict[int, bytes],
                            face: bytes | None) -> None:
    payload = DatasetPayload(details, fingers, face)
    assert decode_payload(encode_payload(payload)) == payload
