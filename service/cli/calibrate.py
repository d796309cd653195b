"""`abis calibrate`: finger and face thresholds for a target FPIR at a gallery size, fitted on
the service's own gallery (a sample read from its store, the source of truth, so it works the
same with ABIS_SHARDS); an audited operation. With ABIS_SCORE_NORMALISATION=cohort it draws
the service's cohort (same size and seed, so the same cohort) and prints a z threshold."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import orjson
import typer

from service.cli.common import fail, keys_or_fail, open_sessions


def calibrate(
    target_fpir: Annotated[float, typer.Option(help="False positive identification rate to hold")
                           ] = 1e-3,
    gallery_size: Annotated[int | None, typer.Option(
        min=1, help="Gallery size to calibrate for (default: the gallery's own)")] = None,
    probes: Annotated[int, typer.Option(min=10, help="Sampled datasets searched")] = 1000,
    reference: Annotated[int, typer.Option(min=100, help="Sampled datasets searched against")
                         ] = 20_000,
) -> None:
    """Print the thresholds that hold TARGET_FPIR at the gallery size (ABIS_FINGER_THRESHOLD,
    ABIS_FACE_THRESHOLD); the service follows its size by itself with ABIS_TARGET_FPIR."""
    from service.audit.events import Operation, finish
    from service.errors import ConfigurationError
    from service.gallery.store_sample import StoreSample
    from service.lifecycle.retention import system_audit
    from service.lifecycle.thresholds import CALIBRATION_ROUTE
    from service.matcher_settings import matcher_config
    from service.scores.calibration import CalibrationError, calibrate_sample
    from service.scores.units import require_threshold_units
    from service.settings import Settings
    from service.writer.cohort import CohortKeeper

    if not 0 < target_fpir < 1:
        fail("--target-fpir must be between 0 and 1")
    settings = Settings()
    try:
        require_threshold_units(settings)
    except ConfigurationError as error:
        fail(error.detail)
    sessions = open_sessions(settings)
    master, trail = keys_or_fail(settings)
    store = StoreSample(sessions, master)
    config = matcher_config(settings)
    cohort = None
    if settings.score_normalisation == "cohort":
        keeper = CohortKeeper(config, settings.cohort_size, settings.cohort_seed, store.ids,
                              store.templates)
        keeper.draw()
        cohort = keeper.cohort
    try:
        found = calibrate_sample(store, config, target_fpir, gallery_size, probes=probes,
                                 reference=reference, cohort=cohort)
    except CalibrationError as error:
        fail(str(error))
    audit = system_audit(CALIBRATION_ROUTE, "operator calibration (abis calibrate): computed, "
                                            "not applied", operation=Operation.THRESHOLDS)
    audit.outcome = {"computed": found.as_dict()}
    now = dt.datetime.now(dt.UTC)
    trail.load_head(sessions)
    with sessions.begin() as session:
        trail.append(session, [finish(audit, 200, now)], now)
    typer.echo(orjson.dumps(found.as_dict()).decode())
    typer.echo(f"ABIS_FINGER_THRESHOLD={found.finger_threshold:.4f}\n"
               f"ABIS_FACE_THRESHOLD={found.face_threshold:.4f}")
