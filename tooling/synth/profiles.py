"""Named synthetic profiles: capture models calibrated against published accuracy figures.

Each profile says what it imitates (its anchor). The measured statistics of each profile are
printed by `benchmarks/profile_stats.py` and recorded in docs/accuracy.md; the knobs below were
tuned with that program, not derived by hand.

- `hard`: the original generator (noisy fingers, per-finger genuine cosine about 0.47): a
  stress test, far worse than real fingerprints.
- `tenprint`: state-of-the-art ten-print capture: per-finger FNMR about 2-3 % at FMR 1e-4
  (the best single-finger systems of NIST's 2004 SDK study stay under 2 %), low failure rates,
  and a good face (as in `face`).
- `face`: tenprint fingers, and a face calibrated to a good 512-dimensional embedding; a tenth
  of encounters give no usable prints, so the face rule (Art 28) decides them.
- `anisotropic`: tenprint genuine variation, but identities with a shared low-dimensional
  part correlated across a person's fingers and log-normally scaled: impostor scores that are
  anisotropic, correlated across fingers and heavy-tailed, as real embeddings are.

Profiles are calibrated at the service's default dimensions (128 per finger, 512 for the face);
other dimensions change the impostor spread (1/sqrt(dim)), hence the calibration.
"""

from __future__ import annotations

from dataclasses import replace

from tooling.synth.captures import CaptureModel

_TENPRINT = CaptureModel(finger_noise=0.57, difficulty_spread=0.5, finger_missing=0.02,
                         amputation=0.01, no_fingers=0.005, no_face=0.01, failed_session=0.002,
                         face_noise=0.75)

PROFILES: dict[str, CaptureModel] = {
    "hard": CaptureModel(),
    "tenprint": _TENPRINT,
    "face": replace(_TENPRINT, no_fingers=0.10),
    "anisotropic": replace(_TENPRINT, shared_weight=0.12, shared_dim=8, finger_correlation=0.8,
                           shared_tail=0.5),
}
DEFAULT_PROFILE = "hard"


def profile_model(name: str, *, finger_dim: int = 128, face_dim: int = 512) -> CaptureModel:
    """The capture model of profile `name` at these dimensions; ValueError if unknown."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    return replace(PROFILES[name], finger_dim=finger_dim, face_dim=face_dim)
