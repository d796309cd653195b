"""The internal gRPC channels' TLS settings were renamed (ABIS_INTERNAL_TLS_*): a deployment
that still sets a former name is refused with the new one, never left without TLS."""

from __future__ import annotations

import pytest

from service.errors import ConfigurationError
from service.settings import Settings
from service.shard.tls import server_credentials


@pytest.mark.parametrize("part", ["CA", "CERT", "KEY"])
def test_a_former_name_is_refused_with_its_new_one(monkeypatch: pytest.MonkeyPatch,
                                                   part: str) -> None:
    monkeypatch.setenv(f"ABIS_TLS_{part}_FILE", "/run/secrets/x")
    with pytest.raises(ConfigurationError, match=f"ABIS_INTERNAL_TLS_{part}_FILE"):
        server_credentials(Settings())


def test_without_any_the_channels_are_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    for part in ("CA", "CERT", "KEY"):
        monkeypatch.delenv(f"ABIS_TLS_{part}_FILE", raising=False)
        monkeypatch.delenv(f"ABIS_INTERNAL_TLS_{part}_FILE", raising=False)
    assert server_credentials(Settings()) is None
