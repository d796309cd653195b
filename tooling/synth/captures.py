"""How one person's templates vary between encounters: the knobs behind the score distributions.

A person's identity is ten unit finger vectors and a unit face vector. A capture of identity
vector t is `quality * normalise(t + noise * u)` with u a random unit vector, so that the norm
encodes capture quality (the matcher's convention) and two captures with noises n1 and n2 have a
cosine of about 1 / sqrt((1 + n1^2)(1 + n2^2)).

Real captures are not equally hard: each encounter draws a *difficulty* d (log-normal, spread
`difficulty_spread`) that multiplies the noise of every template of that encounter and lowers
its quality, so a few encounters are much worse than the rest and the genuine score
distribution gets the long lower tail that makes identification errors (the knob that sets
FNIR). Impostor scores of unrelated identities are sums of cosines of independent vectors,
whose spread is 1 / sqrt(`identity_dim`) per finger: a smaller identity dimension widens the
impostor distribution (the knob that sets FPIR at a threshold).

Real embeddings are not isotropic: their variance sits in a few directions, and a person's ten
fingers share traits (pattern class, ridge density), so impostor scores of two persons are
correlated across their fingers and heavy-tailed. `shared_weight` > 0 adds to every identity
finger vector a component in a `shared_dim`-dimensional subspace, correlated across the
person's fingers (`finger_correlation`) and scaled by a log-normal per-person strength
(spread `shared_tail`): a scale mixture, hence heavy tails. The named profiles calibrated
against published figures are in `tooling.synth.profiles`.

Persons are generated in vectorised chunks (`identities`, `capture_arrays`); `identity` and
`capture` are the one-person views that `abis synth` streams.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float32]
POSITIONS = tuple(range(1, 11))


@dataclass(frozen=True, slots=True)
class CaptureModel:
    finger_dim: int = 128
    face_dim: int = 512
    finger_noise: float = 1.0  # typical noise-to-signal ratio of a finger capture
    face_noise: float = 1.1  # the same for the face
    difficulty_spread: float = 0.5  # sigma of an encounter's log-difficulty
    finger_missing: float = 0.04  # chance that one finger is not captured at an encounter
    amputation: float = 0.02  # chance that a person lacks one to three fingers for good
    no_fingers: float = 0.01  # encounters where no fingerprint can be taken (the face decides)
    no_face: float = 0.02  # encounters without a facial image
    failed_session: float = 0.004  # encounters whose every capture is below the quality floor
    identity_dim: int = 0  # effective dimension of identities; 0 = finger_dim
    shared_weight: float = 0.0  # share of a finger identity's energy in the shared subspace
    shared_dim: int = 8  # dimension of that subspace (few directions: anisotropy)
    finger_correlation: float = 0.0  # correlation of the shared part across a person's fingers
    shared_tail: float = 0.0  # sigma of the per-person log-strength of the shared part

    def __post_init__(self) -> None:
        rates = (self.finger_missing, self.amputation, self.no_fingers, self.no_face,
                 self.failed_session, self.shared_weight, self.finger_correlation)
        if any(not 0.0 <= rate <= 1.0 for rate in rates):
            raise ValueError("rates, shared weight and finger correlation must be between 0 "
                             "and 1")
        if min(self.finger_noise, self.face_noise, self.difficulty_spread,
               self.shared_tail) < 0:
            raise ValueError("noises and spreads must be non-negative")
        if not 0 <= self.identity_dim <= self.finger_dim:
            raise ValueError("identity_dim must be between 1 and finger_dim (0: finger_dim)")
        if not 1 <= self.shared_dim <= self.finger_dim:
            raise ValueError("shared_dim must be between 1 and finger_dim")


@dataclass(frozen=True, slots=True)
class Identity:
    fingers: npt.NDArray[np.float32]  # (10, finger_dim) unit rows
    face: Vector  # unit
    missing: frozenset[int]  # positions the person lacks for good


@dataclass(frozen=True, slots=True)
class Capture:
    fingers: dict[int, Vector]  # raw templates (norm = quality)
    face: Vector | None

    @property
    def usable(self) -> bool:
        """Whether the quality gate (norm >= 0.3, the default floor) lets it through."""
        if self.fingers:
            return any(float(v @ v) >= 0.09 for v in self.fingers.values())
        return self.face is not None and float(self.face @ self.face) >= 0.09


@dataclass(frozen=True, slots=True)
class Identities:
    """n persons: finger identities (n, 10, finger_dim), faces (n, face_dim), lacking fingers."""

    fingers: Matrix
    face: Matrix
    missing: npt.NDArray[np.bool_]

    def take(self, rows: npt.NDArray[np.int64]) -> Identities:
        return Identities(self.fingers[rows], self.face[rows], self.missing[rows])


@dataclass(frozen=True, slots=True)
class Captures:
    """One encounter of each of n persons: raw templates (norm = quality), which were taken."""

    fingers: Matrix  # (n, 10, finger_dim)
    taken: npt.NDArray[np.bool_]  # (n, 10)
    face: Matrix  # (n, face_dim)
    has_face: npt.NDArray[np.bool_]  # (n,)

    def __len__(self) -> int:
        return len(self.fingers)

    def one(self, i: int) -> Capture:
        positions = np.flatnonzero(self.taken[i]).tolist()
        return Capture({p + 1: self.fingers[i, p] for p in positions},
                       self.face[i] if self.has_face[i] else None)


@dataclass(frozen=True, slots=True)
class Subspaces:
    """What a population's identities share: the identity subspace and the shared directions."""

    identity: npt.NDArray[np.float64] | None  # (identity_dim, finger_dim) orthonormal rows
    shared: npt.NDArray[np.float32] | None  # (shared_dim, finger_dim) orthonormal rows


def _units(rng: np.random.Generator, shape: tuple[int, ...]) -> Matrix:
    x = rng.standard_normal(shape, dtype=np.float32)
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    return x


def _orthonormal_rows(rng: np.random.Generator, rows: int, dim: int) -> npt.NDArray[np.float64]:
    q, _ = np.linalg.qr(rng.standard_normal((dim, rows)))
    return np.asarray(q.T)


def subspaces(seed: int, model: CaptureModel) -> Subspaces:
    """The population's subspaces, the same for every person of `seed`."""
    identity_basis = None
    if model.identity_dim not in (0, model.finger_dim):
        identity_basis = _orthonormal_rows(np.random.default_rng([seed, 2**32 - 1]),
                                           model.identity_dim, model.finger_dim)
    shared = None
    if model.shared_weight > 0:
        shared = _orthonormal_rows(np.random.default_rng([seed, 2**32 - 3]), model.shared_dim,
                                   model.finger_dim).astype(np.float32)
    return Subspaces(identity_basis, shared)


def identities(rng: np.random.Generator, n: int, model: CaptureModel, spaces: Subspaces
               ) -> Identities:
    if spaces.identity is None:
        fingers = _units(rng, (n, 10, model.finger_dim))
    else:
        fingers = (_units(rng, (n, 10, spaces.identity.shape[0])) @ spaces.identity).astype(
            np.float32)
    if spaces.shared is not None:
        # Each finger's shared part: a person-wide latent mixed with a finger's own, so that
        # the parts of two fingers correlate by `finger_correlation`; a log-normal strength
        # per person makes impostor products a scale mixture (heavy-tailed).
        rho = model.finger_correlation
        person = rng.standard_normal((n, 1, model.shared_dim), dtype=np.float32)
        own = rng.standard_normal((n, 10, model.shared_dim), dtype=np.float32)
        latent = np.sqrt(rho) * person + np.sqrt(1.0 - rho) * own
        strength = np.exp(model.shared_tail * rng.standard_normal((n, 1, 1))
                          - model.shared_tail**2).astype(np.float32)
        shared = strength * (latent @ spaces.shared) / np.float32(np.sqrt(model.shared_dim))
        w = model.shared_weight
        fingers = np.sqrt(1.0 - w) * fingers + np.sqrt(w) * shared
        fingers /= np.linalg.norm(fingers, axis=-1, keepdims=True)
    face = _units(rng, (n, model.face_dim))
    missing = np.zeros((n, 10), dtype=np.bool_)
    for row in np.flatnonzero(rng.random(n) < model.amputation).tolist():
        missing[row, rng.choice(10, size=int(rng.integers(1, 4)), replace=False)] = True
    return Identities(fingers.astype(np.float32), face, missing)


def capture_arrays(rng: np.random.Generator, persons: Identities, model: CaptureModel
                   ) -> Captures:
    """One encounter of each person: a log-normal difficulty per encounter scales the noise of
    every template and lowers its quality; failed sessions fall below the quality floor."""
    n = len(persons.fingers)
    log_difficulty = model.difficulty_spread * rng.standard_normal(n)
    difficulty = np.exp(log_difficulty)
    failed = rng.random(n) < model.failed_session
    taken = ~persons.missing & (rng.random((n, 10)) >= model.finger_missing)
    taken &= (rng.random(n) >= model.no_fingers)[:, None]
    noise = model.finger_noise * difficulty[:, None] * np.exp(0.3 * rng.standard_normal((n, 10)))
    varied = persons.fingers + noise[..., None].astype(np.float32) * _units(
        rng, persons.fingers.shape)
    quality = np.clip(0.8 - 0.25 * log_difficulty[:, None] + 0.15 * rng.standard_normal((n, 10)),
                      0.05, 1.0)
    quality = np.where(failed[:, None], rng.uniform(0.05, 0.28, (n, 10)), quality)
    varied *= (quality / np.linalg.norm(varied, axis=2))[..., None].astype(np.float32)
    has_face = rng.random(n) >= model.no_face
    varied_face = persons.face + (model.face_noise * difficulty)[:, None].astype(
        np.float32) * _units(rng, persons.face.shape)
    face_quality = np.where(failed, 0.15, np.clip(0.85 - 0.2 * log_difficulty, 0.1, 1.0))
    varied_face *= (face_quality / np.linalg.norm(varied_face, axis=1))[:, None].astype(
        np.float32)
    return Captures(varied, taken, varied_face, has_face)


def identity(rng: np.random.Generator, model: CaptureModel, spaces: Subspaces) -> Identity:
    one = identities(rng, 1, model, spaces)
    missing = frozenset(int(p) + 1 for p in np.flatnonzero(one.missing[0]).tolist())
    return Identity(one.fingers[0], one.face[0], missing)


def capture(rng: np.random.Generator, person: Identity, model: CaptureModel) -> Capture:
    """One encounter's templates of `person`."""
    missing = np.zeros((1, 10), dtype=np.bool_)
    missing[0, [p - 1 for p in person.missing]] = True
    persons = Identities(person.fingers[None], person.face[None], missing)
    return capture_arrays(rng, persons, model).one(0)
