"""abis matcher: fused multi-finger and face matching over a FAISS gallery (exact or fast).

A pure library (numpy and faiss only): templates -> validation and quality -> index ->
candidates from the eligible part of the gallery -> fused scores -> decision at a threshold.
"""

from ._cohort import Cohort, search_normalised
from ._config import FINGER_POSITIONS, FastIndexParams, IndexKind, MatcherConfig
from ._eligibility import Eligibility, EntryMeta
from ._exceptions import (
    DuplicateEntryError,
    MatcherError,
    TemplateError,
    TemplateProblem,
    UnknownEntryError,
)
from ._gallery import Gallery
from ._prepared import PreparedBatch, prepare_batch
from ._scoring import Comparison, Hit, Modality, SearchOutcome, compare
from ._snorm import EntryNorms, search_symmetric, snorm
from ._templates import QualityReport, Templates, TemplateSource, assess, validate

__all__ = [
    "FINGER_POSITIONS",
    "Cohort",
    "Comparison",
    "DuplicateEntryError",
    "Eligibility",
    "EntryMeta",
    "EntryNorms",
    "FastIndexParams",
    "Gallery",
    "Hit",
    "IndexKind",
    "MatcherConfig",
    "MatcherError",
    "Modality",
    "PreparedBatch",
    "QualityReport",
    "SearchOutcome",
    "TemplateError",
    "TemplateProblem",
    "TemplateSource",
    "Templates",
    "UnknownEntryError",
    "assess",
    "compare",
    "prepare_batch",
    "search_normalised",
    "search_symmetric",
    "snorm",
    "validate",
]
