"""The fast paths used for export and verification agree with the plain definitions they stand in for."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from preservation.domain.audit_chain import ChainEntry, StoredEvent, canonical_json, event_text, stored_event
from preservation.domain.audit_csv import csv_cells, csv_lines, csv_text
from preservation.domain.export_verifier import csv_cells as verifier_csv_cells

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
formula_like = st.sampled_from(["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "a,b", 'say "hi"', "two\nlines", ""])
some_text = st.one_of(text, formula_like)
hex64 = st.text("0123456789abcdef", min_size=64, max_size=64)


@st.composite
def entries(draw: st.DrawFn) -> ChainEntry:
    matter = draw(st.one_of(st.none(), st.integers(1, 2**31 - 1)))
    details = draw(st.dictionaries(some_text, st.one_of(some_text, st.integers(), st.none(), st.booleans())))
    return ChainEntry(
        seq=draw(st.integers(1, 2**62)),
        occurred_at=draw(st.sampled_from(["2026-11-28T12:00:00.000000Z", "1999-01-02T03:04:05.678901Z"])),
        actor=draw(some_text),
        action=draw(some_text),
        subject_type=draw(some_text),
        subject_id=draw(some_text),
        matter_id=matter,
        matter_seq=None if matter is None else draw(st.integers(1, 2**40)),
        details=canonical_json(details),
        prev_hash=draw(hex64),
        matter_prev_hash=None if matter is None else draw(hex64),
    )


@settings(max_examples=300, deadline=None)
@given(entry=entries(), stored=hex64)
def test_event_text_is_the_canonical_json(entry: ChainEntry, stored: str) -> None:
    assert event_text(stored_event(entry, stored)).encode() == entry.canonical_bytes()


@settings(max_examples=300, deadline=None)
@given(batch=st.lists(st.tuples(entries(), hex64), max_size=5))
def test_csv_lines_parse_back_to_the_neutralised_cells_the_verifier_expects(
    batch: list[tuple[ChainEntry, str]],
) -> None:
    events: list[StoredEvent] = [stored_event(entry, stored) for entry, stored in batch]
    written = csv_lines(events)
    assert list(csv.reader(io.StringIO(written, newline=""))) == [csv_cells(event) for event in events]
    assert written == csv_text(csv_cells(event) for event in events)
    for event in events:
        document = {**event._asdict(), "details": json.loads(event.details)}
        del document["hash"]
        assert verifier_csv_cells(document, event.hash) == csv_cells(event)
