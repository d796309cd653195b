"""`abis calibrate`: finger and face thresholds for a target FPIR at a gallery size, fitted on
the service's own gallery (read from its store); an audited operation."""

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
    from service.gallery.startup import GalleryLoadFailed, start_gallery, store_gallery
    from service.lifecycle.retention import system_audit
    from service.lifecycle.thresholds import CALIBRATION_ROUTE
    from service.scores.calibration import CalibrationError
    from service.scores.calibration import calibrate as fit
    from service.settings import Settings

    if not 0 < target_fpir < 1:
        fail("--target-fpir must be between 0 and 1")
    settings = Settings()
    sessions = open_sessions(settings)
    master, trail = keys_or_fail(settings)
    gallery = store_gallery(settings, sessions, master)
    try:
        start_gallery(settings, sessions, master, gallery, snapshots=False,
                      progress=lambda done, total: typer.echo(f"gallery {done:,}/{total:,}",
                                                              err=True))
    except GalleryLoadFailed as error:
        fail(str(error))
    try:
        found = fit(gallery, target_fpir, gallery_size, probes=probes, reference=reference)
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
