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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
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

    def __post_init__(self) -> None:
        rates = (self.finger_missing, self.amputation, self.no_fingers, self.no_face,
                 self.failed_session)
        if any(not 0.0 <= rate <= 1.0 for rate in rates):
            raise ValueError("rates must be between 0 and 1")
        if self.finger_noise < 0 or self.face_noise < 0 or self.difficulty_spread < 0:
            raise ValueError("noises and spread must be non-negative")
        if not 0 <= self.identity_dim <= self.finger_dim:
            raise ValueError("identity_dim must be between 1 and finger_dim (0: finger_dim)")


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


def _unit_rows(rng: np.random.Generator, rows: int, dim: int) -> npt.NDArray[np.float32]:
    matrix = rng.standard_normal((rows, dim), dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))[:, None]
    unit: npt.NDArray[np.float32] = matrix / norms
    return unit


def projection(seed: int, model: CaptureModel) -> npt.NDArray[np.float64] | None:
    """The population's identity subspace (identity_dim orthonormal rows), shared by everyone."""
    if model.identity_dim in (0, model.finger_dim):
        return None
    rng = np.random.default_rng([seed, 2**32 - 1])
    q, _ = np.linalg.qr(rng.standard_normal((model.finger_dim, model.identity_dim)))
    return np.asarray(q.T)


def identity(
    rng: np.random.Generator, model: CaptureModel, basis: npt.NDArray[np.float64] | None
) -> Identity:
    if basis is None:
        fingers = _unit_rows(rng, 10, model.finger_dim)
    else:
        fingers = (_unit_rows(rng, 10, basis.shape[0]) @ basis).astype(np.float32)
    face = _unit_rows(rng, 1, model.face_dim)[0]
    missing: frozenset[int] = frozenset()
    if rng.random() < model.amputation:
        count = int(rng.integers(1, 4))
        missing = frozenset(int(p) for p in rng.choice(POSITIONS, size=count, replace=False))
    return Identity(fingers.astype(np.float32), face.astype(np.float32), missing)


def capture(rng: np.random.Generator, person: Identity, model: CaptureModel) -> Capture:
    """One encounter's templates of `person`."""
    log_difficulty = model.difficulty_spread * float(rng.standard_normal())
    difficulty = float(np.exp(log_difficulty))
    failed = rng.random() < model.failed_session
    fingers: dict[int, Vector] = {}
    if rng.random() >= model.no_fingers:
        taken = [p for p in POSITIONS
                 if p not in person.missing and rng.random() >= model.finger_missing]
        if taken:
            rows = np.array([p - 1 for p in taken])
            noise = (model.finger_noise * difficulty
                     * np.exp(0.3 * rng.standard_normal(len(rows)))).astype(np.float32)
            varied = person.fingers[rows] + noise[:, None] * _unit_rows(
                rng, len(rows), model.finger_dim
            )
            quality = np.clip(
                0.8 - 0.25 * log_difficulty + 0.15 * rng.standard_normal(len(rows)), 0.05, 1.0
            )
            if failed:
                quality = rng.uniform(0.05, 0.28, len(rows))
            lengths = np.sqrt(np.einsum("ij,ij->i", varied, varied))
            varied *= (quality / lengths).astype(np.float32)[:, None]
            fingers = dict(zip(taken, varied, strict=True))
    face: Vector | None = None
    if rng.random() >= model.no_face:
        noise_vector = _unit_rows(rng, 1, model.face_dim)[0]
        varied_face = person.face + model.face_noise * difficulty * noise_vector
        face_quality = 0.15 if failed else float(np.clip(0.85 - 0.2 * log_difficulty, 0.1, 1.0))
        face = (varied_face * (face_quality / float(np.sqrt(varied_face @ varied_face)))).astype(
            np.float32
        )
    return Capture(fingers, face)
