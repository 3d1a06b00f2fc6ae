"""Attestations: a steward's word that a manually kept source still holds the evidence."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from preservation.domain.errors import Conflict, FieldError
from preservation.models import DataSource, SourceAttestation
from preservation.services import audit
from preservation.services.pages import Page, paginate
from preservation.services.unit import Unit


def attest(unit: Unit, source_id: int, note: str) -> SourceAttestation:
    """Record that the acting steward has seen the evidence in a manual source, now."""
    source: DataSource = unit.get(DataSource, source_id)
    if source.retired_at is not None:
        raise Conflict(f"data source {source.id} is retired")
    if source.kind != "manual":
        raise Conflict(f"only manual sources are attested; a {source.kind} source is checked in the storage")
    if not note.strip():
        raise FieldError("note", "say what was checked and how")
    attestation = SourceAttestation(
        data_source_id=source.id, attested_at=unit.clock(), attested_by=unit.actor, note=note
    )
    unit.session.add(attestation)
    unit.session.flush()
    audit.record(
        unit,
        "data_source.attested",
        "data_source",
        source.id,
        matter_id=None,
        details={"attestation_id": attestation.id, "note": note},
    )
    return attestation


def latest_attestation(session: Session, source_id: int) -> SourceAttestation | None:
    """The newest attestation of a source."""
    return session.scalars(
        select(SourceAttestation)
        .where(SourceAttestation.data_source_id == source_id)
        .order_by(SourceAttestation.attested_at.desc(), SourceAttestation.id.desc())
        .limit(1)
    ).first()


def list_attestations(unit: Unit, source_id: int, page: int, per_page: int) -> Page:
    """A source's attestations, newest first."""
    unit.get(DataSource, source_id)
    query = (
        select(SourceAttestation)
        .where(SourceAttestation.data_source_id == source_id)
        .order_by(SourceAttestation.attested_at.desc(), SourceAttestation.id.desc())
    )
    return paginate(unit.session, query, page, per_page)
