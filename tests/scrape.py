"""Reading a running server's /metrics: samples by name and labels."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    def __init__(self, text: str) -> None:
        self.text = text
        self.families = {family.name: family for family in text_string_to_metric_families(text)}
        self.samples = [sample for family in self.families.values()
                        for sample in family.samples]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called `name` whose labels include `labels` (0 if none)."""
        return sum(sample.value for sample in self.samples if sample.name == name
                   and all(sample.labels.get(key) == wanted for key, wanted in labels.items()))

    def sample_names(self) -> set[str]:
        return {sample.name for sample in self.samples}


def scrape(client: httpx.Client) -> Scrape:
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return Scrape(answer.text)
