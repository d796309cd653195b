"""A synthetic person is a seed: identity templates drawn from it, captures as noisy copies.

A capture of finger or face template t is normalise(t + noise) scaled by a quality factor, so
that the norm of a capture encodes its quality (the matcher's convention) and two captures of
one person have a cosine of about 1 / (1 + noise**2 * dim) ... well above impostor cosines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from schemas.templates import encode_template

Vector = npt.NDArray[np.float32]


def _unit(rng: np.random.Generator, dim: int) -> Vector:
    vector = rng.standard_normal(dim).astype(np.float32)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


@dataclass(frozen=True)
class SyntheticPerson:
    """Identity templates of one synthetic person, reproducible from `seed`."""

    seed: int
    finger_dim: int = 128
    face_dim: int = 512

    def identity(self) -> tuple[dict[int, Vector], Vector]:
        rng = np.random.default_rng([self.seed, 0])
        fingers = {position: _unit(rng, self.finger_dim) for position in range(1, 11)}
        return fingers, _unit(rng, self.face_dim)

    def capture(
        self,
        capture: int,
        *,
        noise: float = 0.8,
        quality: float = 0.9,
        positions: tuple[int, ...] = tuple(range(1, 11)),
        face: bool = True,
    ) -> tuple[dict[int, Vector], Vector | None]:
        """One encounter's templates; `noise` is the per-vector noise norm relative to 1."""
        rng = np.random.default_rng([self.seed, capture + 1])
        fingers, face_vector = self.identity()

        def noisy(base: Vector) -> Vector:
            varied = base + noise * _unit(rng, base.shape[0])
            return (quality * varied / np.linalg.norm(varied)).astype(np.float32)

        captured = {position: noisy(fingers[position]) for position in positions}
        return captured, noisy(face_vector) if face else None


def encode_biometrics(fingers: dict[int, Vector], face: Vector | None) -> dict[str, object]:
    """The `biometrics` member of a transmission body."""
    body: dict[str, object] = {
        "fingers": {
            str(position): encode_template(vector.astype("<f4").tobytes())
            for position, vector in fingers.items()
        }
    }
    if face is not None:
        body["face"] = encode_template(face.astype("<f4").tobytes())
    return body
