"""The matcher configuration and an empty gallery, from the ABIS_* settings."""

from __future__ import annotations

import matcher
from service.settings import Settings


def matcher_config(settings: Settings) -> matcher.MatcherConfig:
    return matcher.MatcherConfig(
        finger_dim=settings.finger_dim,
        face_dim=settings.face_dim,
        finger_threshold=settings.finger_threshold,
        face_threshold=settings.face_threshold,
        min_quality=settings.min_quality,
        max_norm=settings.max_template_norm,
        min_spread=settings.min_template_spread,
    )


def make_gallery(settings: Settings, source: matcher.TemplateSource | None = None
                 ) -> matcher.Gallery:
    return matcher.Gallery(
        matcher_config(settings),
        index=settings.index,
        fast=matcher.FastIndexParams(
            subvector_dim=settings.fast_subvector_dim, candidates=settings.fast_candidates
        ),
        source=source,
    )
