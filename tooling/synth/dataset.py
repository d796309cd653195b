"""`abis synth`: a deterministic synthetic population written as compact, streamed files.

    DIR/manifest.json              seed, knobs, counts, the shard lists (written last: a
                                   directory without it is incomplete)
    DIR/load/datasets-NNNNN.ndjson.gz   what `abis load` sends: one bulk item per line, each
                                   person's encounters in time order
    DIR/probes/probes-NNNNN.ndjson.gz   what `abis evaluate` searches with: fresh captures of
                                   loaded persons (mated) and of persons never loaded (non-mated)
    DIR/truth/encounters-NNNNN.ndjson.gz, DIR/truth/probes.ndjson.gz
                                   the ground truth (which encounters and probes are the same
                                   person), kept apart: nothing under load/ or probes/ names
                                   a person, reference numbers and probe ids are opaque

Person p of seed s draws from its own random streams ([s, p, ...]), so any person can be
regenerated alone and the output does not depend on how the work is split. One person at a
time is in memory; gzip at level 1 keeps the writer fast (random floats hardly compress).
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from schemas.codes import Category
from tooling.synth.captures import Capture, CaptureModel, Identity, capture, identity, subspaces
from tooling.synth.journey import Step, journey
from tooling.synth.names import NATIONALITIES, Nationality
from tooling.synth.person import encode_biometrics

FORMAT = "abis-synth/1"
DEFAULT_END = dt.date(2026, 11, 1)
_NATIONALITY_P = np.array([n.weight for n in NATIONALITIES]) / sum(n.weight for n in NATIONALITIES)
_PLACES = {
    Category.SEARCH_AND_RESCUE: "port of disembarkation",
    Category.IRREGULAR_CROSSING: "external border section",
    Category.ILLEGAL_STAY: "police station",
    Category.APPLICANT: "asylum office",
    Category.TEMPORARY_PROTECTION: "registration centre",
    Category.ADMISSION: "resettlement mission",
    Category.NATIONAL_RESETTLEMENT: "resettlement mission",
}


@dataclass(frozen=True, slots=True)
class SynthOptions:
    persons: int
    seed: int = 1
    end: dt.date = DEFAULT_END
    years: int = 3  # journeys start within this many years before `end`
    mated_probes: int = 1000
    non_mated_probes: int = 1000
    shard_size: int = 50_000
    compress: bool = False  # gzip what is loaded, too (the ground truth always is)
    model: CaptureModel = field(default_factory=CaptureModel)

    def __post_init__(self) -> None:
        if self.persons < 1:
            raise ValueError("persons must be at least 1")
        if not 0 <= self.mated_probes <= self.persons:
            raise ValueError("mated probes must be between 0 and the number of persons")
        if self.non_mated_probes < 0 or self.shard_size < 1 or self.years < 1:
            raise ValueError("non-mated probes, shard size and years must be positive")


@dataclass(frozen=True, slots=True)
class PersonData:
    nationality: Nationality
    sex: str
    family_name: str
    given_names: str
    date_of_birth: dt.date
    place_of_birth: str
    document: dict[str, str] | None


def _stream(seed: int, person: int, *tags: int) -> np.random.Generator:
    return np.random.default_rng([seed, person, *tags])


def _reference(member_state: str, category: Category, seed: int, person: int, k: int) -> str:
    token = hashlib.blake2b(f"{seed}:{person}:{k}".encode(), digest_size=8).hexdigest().upper()
    return f"{member_state}{int(category)}{token}"


def person_data(
    rng: np.random.Generator, nationality: Nationality, first_seen: dt.date
) -> PersonData:
    """Identity data consistent with the nationality; aged 6 or more at the first encounter."""
    roll = rng.random()
    sex = "X" if roll < 0.005 else ("F" if roll < 0.4 else "M")
    given = nationality.given_female if sex == "F" else nationality.given_male
    if sex == "X":
        given = nationality.given_female + nationality.given_male
    age = int(rng.integers(6, 18)) if rng.random() < 0.2 else 18 + int(rng.gamma(2.0, 7.0))
    birth = first_seen - dt.timedelta(days=int(365.25 * age) + int(rng.integers(1, 360)))
    document = None
    if rng.random() < 0.35:
        letters = "".join(chr(65 + int(c)) for c in rng.integers(0, 26, 2))
        document = {
            "type": "passport",
            "number": f"{letters}{int(rng.integers(10**6, 10**7))}",
            "issuing_country": nationality.code,
            "expiry": (first_seen + dt.timedelta(days=int(rng.integers(30, 3000)))).isoformat(),
        }
    return PersonData(
        nationality=nationality,
        sex=sex,
        family_name=str(rng.choice(nationality.family)),
        given_names=str(rng.choice(given)),
        date_of_birth=birth,
        place_of_birth=str(rng.choice(nationality.places)),
        document=document,
    )


@dataclass(frozen=True, slots=True)
class Encounter:
    reference_number: str
    step: Step
    capture: Capture


@dataclass(frozen=True, slots=True)
class SyntheticSubject:
    """One person of the population, with every encounter."""

    index: int
    data: PersonData
    identity: Identity
    encounters: list[Encounter]


class Population:
    """Persons of one seed and model; person p is the same whoever asks and in whatever order."""

    def __init__(self, seed: int, model: CaptureModel, end: dt.date, years: int) -> None:
        self.seed = seed
        self.model = model
        self.end = end
        self.start = end - dt.timedelta(days=365 * years)
        self._basis = subspaces(seed, model)

    def identity(self, person: int) -> Identity:
        return identity(_stream(self.seed, person), self.model, self._basis)

    def subject(self, person: int) -> SyntheticSubject:
        # One stream per person, drawn in a fixed order: identity first (so that `identity`
        # regenerates it alone), then the journey, the identity data and the captures.
        rng = _stream(self.seed, person)
        ident = identity(rng, self.model, self._basis)
        nationality = NATIONALITIES[int(rng.choice(len(NATIONALITIES), p=_NATIONALITY_P))]
        steps = journey(rng, nationality, self.start, self.end)
        data = person_data(rng, nationality, steps[0].taken_at.date())
        encounters = [
            Encounter(
                _reference(step.member_state, step.category, self.seed, person, k),
                step,
                capture(rng, ident, self.model),
            )
            for k, step in enumerate(steps)
        ]
        return SyntheticSubject(person, data, ident, encounters)

    def probe(self, person: int) -> Capture:
        """A fresh capture of `person` for a search, as taken: one the quality gate refuses is
        a failure to acquire, which the evaluation counts (ISO/IEC 19795-1), never retried."""
        return capture(_stream(self.seed, person, 4, 0), self.identity(person), self.model)


def transmission_body(subject: SyntheticSubject, encounter: Encounter) -> dict[str, Any]:
    """A transmission (the body of POST /v1/transmissions) of one encounter."""
    step, data = encounter.step, subject.data
    person: dict[str, Any] = {
        "family_name": data.family_name,
        "given_names": data.given_names,
        "nationality": data.nationality.code,
        "date_of_birth": data.date_of_birth.isoformat(),
        "place_of_birth": data.place_of_birth,
        "sex": data.sex,
    }
    if data.document is not None:
        person["document"] = data.document
    body: dict[str, Any] = {
        "reference_number": encounter.reference_number,
        "category": int(step.category),
        "biometrics": encode_biometrics(encounter.capture.fingers, encounter.capture.face),
        "person": person,
        "event": {"place": f"{_PLACES[step.category]}, {step.member_state}",
                  "date": step.taken_at.date().isoformat()},
        "taken_at": step.taken_at.isoformat(),
        "operator_user_id": f"{step.member_state.lower()}-officer-"
                            f"{encounter.reference_number[-2:]}",
    }
    if step.admission_decision is not None:
        body["admission_decision"] = step.admission_decision.value
    return body


class _ShardWriter:
    """Lines into `prefix-NNNNN.ndjson[.gz]` files of at most `size` lines each."""

    def __init__(self, directory: Path, prefix: str, size: int, *, compress: bool) -> None:
        self._directory = directory
        self._prefix = prefix
        self._size = size
        self._compress = compress
        self._file: IO[bytes] | None = None
        self._raw: IO[bytes] | None = None
        self._lines = 0
        self.names: list[str] = []

    def write(self, record: object) -> None:
        if self._file is None or self._lines == self._size:
            self.close()
            suffix = ".ndjson.gz" if self._compress else ".ndjson"
            name = f"{self._prefix}-{len(self.names):05d}{suffix}"
            self.names.append(name)
            raw: IO[bytes] = (self._directory / name).open("wb", buffering=1 << 20)
            # mtime=0: the same input gives the same bytes
            target: IO[bytes] = raw
            if self._compress:
                target = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0)  # type: ignore[assignment]
            self._raw, self._file, self._lines = raw, target, 0
        self._file.write(orjson.dumps(record) + b"\n")
        self._lines += 1

    def close(self) -> None:
        if self._file is not None and self._raw is not None:
            self._file.close()
            self._raw.close()
            self._file = self._raw = None


def generate(options: SynthOptions, out: Path, progress: Any = None) -> dict[str, Any]:
    """Write the population to `out` (created; must be empty); returns the manifest.

    `progress(persons_done)` is called now and then.
    """
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    for part in ("load", "probes", "truth"):
        (out / part).mkdir()
    population = Population(options.seed, options.model, options.end, options.years)
    mated = np.random.default_rng([options.seed, 2**32 - 2]).choice(
        options.persons, size=options.mated_probes, replace=False
    )
    mated_set = set(mated.tolist())
    # Templates are random floats: gzip saves a quarter of their size at several times the
    # cost of generating them, so what is loaded is plain NDJSON unless asked.
    load = _ShardWriter(out / "load", "datasets", options.shard_size, compress=options.compress)
    probes = _ShardWriter(out / "probes", "probes", options.shard_size, compress=options.compress)
    truth = _ShardWriter(out / "truth", "encounters", options.shard_size, compress=True)
    probe_truth = _ShardWriter(out / "truth", "probes", 10**12, compress=True)
    counts = {"persons": options.persons, "encounters": 0, "expected_refused": 0,
              "mated_probes": 0, "non_mated_probes": 0, "probes_expected_refused": 0}
    probe_counter = 0

    def write_probe(person: int, is_mated: bool) -> None:
        nonlocal probe_counter
        probe_counter += 1
        probe_id = hashlib.blake2b(f"{options.seed}:probe:{probe_counter}".encode(),
                                   digest_size=8).hexdigest()
        found = population.probe(person)
        probes.write({"probe_id": probe_id,
                      "biometrics": encode_biometrics(found.fingers, found.face)})
        probe_truth.write({"probe_id": probe_id, "person": person, "mated": is_mated,
                           "usable": found.usable})
        counts["mated_probes" if is_mated else "non_mated_probes"] += 1
        counts["probes_expected_refused"] += 0 if found.usable else 1

    for person in range(options.persons):
        subject = population.subject(person)
        for k, encounter in enumerate(subject.encounters):
            load.write({"member_state": encounter.step.member_state,
                        "transmission": transmission_body(subject, encounter)})
            usable = encounter.capture.usable
            truth.write({"reference_number": encounter.reference_number, "person": person,
                         "encounter": k, "member_state": encounter.step.member_state,
                         "category": int(encounter.step.category), "usable": usable})
            counts["encounters"] += 1
            counts["expected_refused"] += 0 if usable else 1
        if person in mated_set:
            write_probe(person, True)
        if progress is not None and person % 1000 == 999:
            progress(person + 1)
    for person in range(options.persons, options.persons + options.non_mated_probes):
        write_probe(person, False)
    for writer in (load, truth, probes, probe_truth):
        writer.close()
    manifest = {
        "format": FORMAT,
        "seed": options.seed,
        "end": options.end.isoformat(),
        "years": options.years,
        "model": asdict(options.model),
        "counts": counts,
        "load": load.names,
        "probes": probes.names,
        "truth": {"encounters": truth.names, "probes": probe_truth.names},
    }
    (out / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    if progress is not None:
        progress(options.persons)
    return manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{directory} holds no manifest.json: not a complete abis synth "
                                "output")
    manifest: dict[str, Any] = orjson.loads(path.read_bytes())
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{path} is not in the {FORMAT} format")
    return manifest


def read_lines(path: Path) -> Iterator[bytes]:
    """The non-empty lines of one .ndjson or .ndjson.gz shard, streamed."""
    with path.open("rb", buffering=1 << 20) as raw:
        source: IO[bytes] = (
            io.BufferedReader(gzip.GzipFile(fileobj=raw), buffer_size=1 << 20)
            if path.suffix == ".gz" else raw
        )
        for line in source:
            if line.strip():
                yield line.rstrip(b"\n")


def read_records(directory: Path, names: list[str]) -> Iterator[dict[str, Any]]:
    for name in names:
        for line in read_lines(directory / name):
            yield orjson.loads(line)
