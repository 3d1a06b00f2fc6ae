"""The audit hash chain, without a database: canonical bytes, hashes, and finding every kind of break."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from preservation.domain.audit_chain import (
    GENESIS_HASH,
    ChainEntry,
    ChainProblem,
    canonical_json,
    find_chain_problems,
    format_timestamp,
)

Chain = list[tuple[ChainEntry, str]]


def entry(seq: int = 1, **fields: Any) -> ChainEntry:
    """An entry with plausible values, overridden by `fields`."""
    values: dict[str, Any] = {
        "seq": seq,
        "occurred_at": "2026-11-28T12:00:00.000001Z",
        "actor": "user:counsel@example.org",
        "action": "order.created",
        "subject_type": "order",
        "subject_id": "7",
        "matter_id": 3,
        "matter_seq": 1,
        "details": canonical_json({"title": "Preservation order"}),
        "prev_hash": GENESIS_HASH,
        "matter_prev_hash": GENESIS_HASH,
    }
    values.update(fields)
    return ChainEntry(**values)


def build(matters: list[int | None]) -> Chain:
    """A correct chain with one entry per item, each in the given matter (or in none)."""
    chain: Chain = []
    heads: dict[int, tuple[int, str]] = {}
    previous = GENESIS_HASH
    for seq, matter in enumerate(matters, start=1):
        matter_seq = matter_prev = None
        if matter is not None:
            last_seq, matter_prev = heads.get(matter, (0, GENESIS_HASH))
            matter_seq = last_seq + 1
        item = entry(
            seq,
            occurred_at=f"2026-11-28T12:{seq // 60 % 60:02d}:{seq % 60:02d}.000000Z",
            subject_id=str(seq),
            matter_id=matter,
            matter_seq=matter_seq,
            details=canonical_json({"n": seq}),
            prev_hash=previous,
            matter_prev_hash=matter_prev,
        )
        digest = item.compute_hash()
        chain.append((item, digest))
        previous = digest
        if matter is not None and matter_seq is not None:
            heads[matter] = (matter_seq, digest)
    return chain


def relinked(entries: list[ChainEntry]) -> Chain:
    """Entries as a forger would leave them: global seq, prev_hash and hashes recomputed, matter links untouched."""
    chain: Chain = []
    previous = GENESIS_HASH
    for seq, item in enumerate(entries, start=1):
        fixed = dataclasses.replace(item, seq=seq, prev_hash=previous)
        previous = fixed.compute_hash()
        chain.append((fixed, previous))
    return chain


def problems(chain: Chain) -> list[ChainProblem]:
    return list(find_chain_problems(chain))


MATTERS = st.lists(st.sampled_from([None, 1, 2, 3]), min_size=1, max_size=25)


# Canonical bytes and hashes ------------------------------------------------------------------------


def test_canonical_bytes_are_pinned() -> None:
    """Changing this spelling would make every stored hash wrong."""
    item = entry(details=canonical_json({"title": "Órden", "n": 1}))
    expected = (
        '{"action":"order.created","actor":"user:counsel@example.org","details":{"n":1,"title":"Órden"},'
        '"matter_id":3,"matter_prev_hash":"' + GENESIS_HASH + '","matter_seq":1,'
        '"occurred_at":"2026-11-28T12:00:00.000001Z","prev_hash":"' + GENESIS_HASH + '","seq":1,'
        '"subject_id":"7","subject_type":"order"}'
    ).encode()
    assert item.canonical_bytes() == expected
    assert item.compute_hash() == hashlib.sha256(expected).hexdigest()


def test_events_outside_a_matter_spell_null() -> None:
    item = entry(matter_id=None, matter_seq=None, matter_prev_hash=None, details="{}")
    document = json.loads(item.canonical_bytes())
    assert document["matter_id"] is None
    assert document["matter_seq"] is None
    assert document["matter_prev_hash"] is None
    assert b'"details":{}' in item.canonical_bytes()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_canonical_json_is_one_spelling(value: Any) -> None:
    spelled = canonical_json(value)
    assert json.loads(spelled) == value
    assert canonical_json(json.loads(spelled)) == spelled
    assert ", " not in spelled or any(", " in text for text in _strings(value))
    if isinstance(value, dict):
        reversed_order = dict(reversed(list(value.items())))
        assert canonical_json(reversed_order) == spelled


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in [key, *_strings(item)]]
    return []


def test_canonical_json_keeps_non_ascii_and_refuses_nan() -> None:
    assert canonical_json({"b": 1, "a": "é→🎥"}) == '{"a":"é→🎥","b":1}'
    with pytest.raises(ValueError, match="JSON"):
        canonical_json({"n": float("nan")})


@given(
    st.datetimes(
        min_value=dt.datetime(1000, 1, 2),  # noqa: DTZ001 (bounds of naive values, zones drawn apart)
        max_value=dt.datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.timezones(),
    )
)
def test_timestamps_are_spelled_in_utc_with_microseconds(moment: dt.datetime) -> None:
    spelled = format_timestamp(moment)
    assert len(spelled) == len("2026-11-28T12:00:00.000001Z")
    parsed = dt.datetime.strptime(spelled, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    assert parsed == moment.astimezone(dt.UTC)
    assert format_timestamp(parsed) == spelled


def test_timestamp_examples() -> None:
    eastern = dt.timezone(dt.timedelta(hours=-5))
    assert format_timestamp(dt.datetime(2018, 9, 27, 7, 0, tzinfo=eastern)) == "2018-09-27T12:00:00.000000Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(dt.datetime(2018, 9, 27, 12, 0))  # noqa: DTZ001 (the naive value is the point)


FIELD_CHANGES = {
    "seq": 2,
    "occurred_at": "2026-11-28T12:00:00.000002Z",
    "actor": "user:other@example.org",
    "action": "order.updated",
    "subject_type": "matter",
    "subject_id": "8",
    "matter_id": 4,
    "matter_seq": 2,
    "details": canonical_json({"title": "Preservation order."}),
    "prev_hash": "1" * 64,
    "matter_prev_hash": None,
}


@pytest.mark.parametrize(("name", "value"), FIELD_CHANGES.items())
def test_every_field_is_hashed(name: str, value: Any) -> None:
    original = entry()
    assert dataclasses.replace(original, **{name: value}).compute_hash() != original.compute_hash()


@given(st.text(), st.text())
def test_hash_tells_apart_any_two_details(first: str, second: str) -> None:
    a = entry(details=canonical_json({"note": first}))
    b = entry(details=canonical_json({"note": second}))
    assert (a.compute_hash() == b.compute_hash()) == (first == second)


# Finding breaks ------------------------------------------------------------------------------------


@given(MATTERS)
def test_a_correct_chain_has_no_problems(matters: list[int | None]) -> None:
    assert problems(build(matters)) == []


def test_empty_chain_has_no_problems() -> None:
    assert problems([]) == []


@given(MATTERS, st.data())
def test_an_altered_entry_is_named(matters: list[int | None], data: st.DataObject) -> None:
    chain = build(matters)
    index = data.draw(st.integers(0, len(chain) - 1))
    item, stored = chain[index]
    chain[index] = (dataclasses.replace(item, details=canonical_json({"n": -1})), stored)
    found = problems(chain)
    assert found[0].seq == index + 1
    assert "altered" in found[0].reason


def test_an_altered_hash_breaks_the_next_links() -> None:
    chain = build([1, 1, 1])
    item, _ = chain[1]
    chain[1] = (item, "f" * 64)
    found = problems(chain)
    assert [problem.seq for problem in found] == [2, 3, 3]
    assert "altered" in found[0].reason
    assert "prev_hash does not match" in found[1].reason
    assert "matter 1: matter_prev_hash" in found[2].reason


@given(MATTERS.filter(lambda matters: len(matters) >= 2), st.data())
def test_a_missing_entry_is_found_where_the_gap_is(matters: list[int | None], data: st.DataObject) -> None:
    chain = build(matters)
    index = data.draw(st.integers(0, len(chain) - 2))
    del chain[index]
    found = problems(chain)
    assert found[0].seq == index + 2
    assert "missing or inserted" in found[0].reason


def test_a_missing_last_entry_cannot_be_seen_from_the_chain_alone() -> None:
    """Truncation leaves a valid prefix; only a checkpoint of the head can catch it."""
    assert problems(build([1, 2, 1])[:-1]) == []


def test_an_inserted_entry_is_found_even_when_it_is_self_consistent() -> None:
    chain = build([1, None, 1])
    forged = entry(2, matter_id=None, matter_seq=None, matter_prev_hash=None, prev_hash=chain[0][1])
    chain.insert(1, (forged, forged.compute_hash()))
    found = problems(chain)
    assert [(problem.seq, problem.reason.split(":")[0]) for problem in found] == [
        (2, "expected seq 3"),
        (2, "prev_hash does not match the previous event's hash"),
    ]


def test_an_inserted_matter_entry_breaks_that_matter_chain() -> None:
    chain = build([1, None, 1])
    forged = dataclasses.replace(chain[0][0], seq=2, prev_hash=chain[0][1], subject_id="forged")
    chain.insert(1, (forged, forged.compute_hash()))
    found = problems(chain)
    assert found[0] == ChainProblem(2, "matter 1: expected matter_seq 2, found 1")
    assert {problem.seq for problem in found} == {2, 3}


def test_reordered_entries_are_found() -> None:
    chain = build([1, 2, 1, 2])
    chain[1], chain[2] = chain[2], chain[1]
    found = problems(chain)
    assert found[0] == ChainProblem(3, "expected seq 2: events are missing or inserted")
    assert [problem.seq for problem in found] == [3, 3, 2, 2, 4, 4]


def test_a_relinked_forgery_still_breaks_the_matter_chain() -> None:
    """A forger who drops an event and recomputes the whole chain cannot also fix the matter's links."""
    chain = build([1, 1, 1])
    forged = relinked([chain[0][0], chain[2][0]])
    found = problems(forged)
    assert [problem.seq for problem in found] == [2, 2]
    assert "expected matter_seq 2, found 3" in found[0].reason
    assert "matter_prev_hash" in found[1].reason


def test_a_matter_link_to_the_wrong_event_is_found() -> None:
    chain = build([1, 2, 1])
    wrong = dataclasses.replace(chain[2][0], matter_prev_hash=chain[1][1])
    found = problems(relinked([chain[0][0], chain[1][0], wrong]))
    assert len(found) == 1
    assert found[0].seq == 3
    assert "matter 1: matter_prev_hash" in found[0].reason


def test_an_event_moved_to_another_matter_is_found() -> None:
    chain = build([1, 2, 2])
    moved = dataclasses.replace(chain[2][0], matter_id=1)
    found = problems(relinked([chain[0][0], chain[1][0], moved]))
    assert found == [ChainProblem(3, "matter 1: matter_prev_hash does not match that matter's previous event")]


@given(MATTERS.filter(lambda matters: len(matters) >= 2), st.data())
def test_problems_come_earliest_first(matters: list[int | None], data: st.DataObject) -> None:
    chain = build(matters)
    first = data.draw(st.integers(0, len(chain) - 1))
    second = data.draw(st.integers(0, len(chain) - 1))
    for index in {first, second}:
        item, stored = chain[index]
        chain[index] = (dataclasses.replace(item, actor="user:mallory@example.org"), stored)
    seqs = [problem.seq for problem in problems(chain)]
    assert seqs == sorted(seqs)
    assert seqs[0] == min(first, second) + 1
