"""Judging one version of an S3 Inventory report with the same rules as a listing.

A million rows stay cheap because most of them share an outcome: a lifecycle date depends on a version
only through its matching rules and the UTC day its clock starts on, so versions without retention are
counted per (rules, day) outcome and folded into the tallies at the end, with their first keys kept as
examples. Versions under retention carry their own date and are tallied one by one. Inventory carries
no tags: a rule that filters on tags is assumed to match.

The judges take the key decoded: the caller decodes it once, for a key written once or for all the rows
of a key's group.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from preservation.domain.destruction import (
    FOREVER,
    NEVER_BY_LIFECYCLE,
    LifecycleDate,
    LifecycleRule,
    VersionTimeline,
    lifecycle_date,
    parse_timestamp,
    rule_matches,
)
from preservation.domain.inventory import InventoryManifest
from preservation.domain.inventory_outcomes import (
    Outcome,
    Shared,
    clock_day,
    fold_outcomes,
    stamp_ceil,
    stamp_floor,
)
from preservation.domain.s3_findings import MAX_EXAMPLES, VersionTallies
from preservation.domain.scope import DateRange

# Sorts after any inventory timestamp that starts with the same day.
_ABOVE = chr(0x10FFFF)
# Decoded key folders kept at once (bounds memory when every key has a folder of its own).
_FOLDER_CACHE = 50_000


class VersionJudge:
    """The settings of one evaluation, the judges of a version bound to them, and the tallies they fill."""

    def __init__(
        self,
        manifest: InventoryManifest,
        *,
        prefix: str,
        scope: Sequence[DateRange],
        now: dt.datetime,
        rules: list[LifecycleRule] | None,
        versioning: str | None,
        object_lock: str,
        duty_ends_at: dt.datetime | None = None,
    ) -> None:
        index = manifest.index
        # parse_manifest guarantees these five columns.
        self._key = manifest.columns.index("Key")
        self._version = manifest.columns.index("VersionId")
        self._latest = manifest.columns.index("IsLatest")
        self._marker = manifest.columns.index("IsDeleteMarker")
        self._modified = manifest.columns.index("LastModifiedDate")
        self._size = index("Size")
        self._hold = index("ObjectLockLegalHoldStatus")
        self._retain = index("ObjectLockRetainUntilDate")
        self._mode = index("ObjectLockMode")
        self._prefix = prefix
        # Whole UTC days as ISO strings compare as the days do.
        self._days = [((r.start or dt.date.min).isoformat(), (r.end or dt.date.max).isoformat()) for r in scope]
        # A timestamp is compared whole: it sorts after its day and before any text above it.
        self._stamp_bounds = [(low, high + _ABOVE) for low, high in self._days or [("~", "")]]
        self._now = now
        self._rules = rules
        self._versioning = versioning
        self._lock_off = object_lock == "disabled"
        self._sizes_matter = rules is not None and any(
            r.size_greater_than is not None or r.size_less_than is not None for r in rules
        )
        self._tagged = frozenset(i for i, r in enumerate(rules or ()) if r.tags)
        self._rank_cap = max((r.newer_noncurrent_versions or 0 for r in rules or ()), default=0) + 1
        # A rule's match depends on a key under the prefix only when its own prefix goes further.
        key_matters = any(r.prefix.startswith(prefix) and len(r.prefix) > len(prefix) for r in rules or ())
        self._prefix_span = max((len(r.prefix) for r in rules or ()), default=0) if key_matters else 0
        self._matching_cache: dict[str, tuple[int, ...]] = {}
        self._folders: dict[str, str] = {}
        self._lifecycle_cache: dict[tuple[Any, ...], LifecycleDate] = {}
        self._outcomes: dict[tuple[Any, ...], Outcome] = {}
        # (key head, day written, written at midnight, null version) -> what such versions share.
        self._fast: dict[tuple[Any, ...], Shared] = {}
        # The same, by the hour a current version was written ("2026-11-01T10"), where nothing else counts.
        self._by_hour: dict[str, Shared] = {}
        # Inventory timestamps have millisecond text; these make "retain > now" and "< duty end" text tests.
        self._now_text = stamp_floor(now)
        self._duty_text = "~" if duty_ends_at is None else stamp_ceil(duty_ends_at)
        self._tallies = VersionTallies(duty_ends_at=duty_ends_at)
        self.rows = 0
        blind = not self._lock_off and (self._hold is None or self._retain is None)
        self._blind_reason = "the inventory report leaves out the Object Lock fields" if blind else None
        # Raw (URL-encoded) starts that can only decode to a key under the prefix: held rows need no decoding.
        self._raw_prefixes = tuple(
            {quote_plus(prefix, safe=""), quote_plus(prefix, safe="/")}
            | ({prefix} if "%" not in prefix and "+" not in prefix else set())
        )
        self._version_judge_bound = self._version_judge()
        self._fresh_judge_bound = self._fresh_judge()

    def _fresh_judge(self) -> Callable[[list[str], str, str], None]:
        """The judge of an unheld version written once and in scope, the settings bound as locals.

        Its outcome depends only on the hour it was written when rules match whatever the key under the
        prefix, versioning is not suspended and the report has the lock columns: the shared part is then
        looked up by that hour, filled by the general judge the first time. Anything else goes there.
        """
        judge, slow = self._version_judge_bound, self._judge
        if not (
            self._rules is not None
            and not self._sizes_matter
            and self._prefix_span == 0
            and self._versioning != "Suspended"
            and not self._lock_off
            and self._retain is not None
            and self._mode is not None
        ):

            def general(row: list[str], key: str, modified: str) -> None:
                judge(row, key, None, 0, False)

            return general
        version_column, retain_column, mode_column = self._version, self._retain, self._mode
        prefix, by_hour = self._prefix, self._by_hour
        now_text, duty_text = self._now_text, self._duty_text

        def fresh(row: list[str], key: str, modified: str) -> None:
            if not key.startswith(prefix):
                return
            # Only "...Z" stamps of 24 characters are read as text; the hour names the UTC day, not midnight.
            shared = by_hour.get(modified[:13]) if modified[23:] == "Z" else None
            if shared is None:
                judge(row, key, None, 0, False)
                return
            retain_text = row[retain_column]
            if retain_text > now_text:
                if retain_text[23:] != "Z":
                    slow(row, key, None, 0, False)
                    return
                # Under retention: destroyed at the later of its lifecycle date and its retain-until date.
                lifecycle_text = shared.lifecycle_text
                destroy_text = retain_text if retain_text > lifecycle_text else lifecycle_text
                retained_key = (
                    row[mode_column] == "COMPLIANCE",
                    shared.has_rule and destroy_text < duty_text,
                    retain_text < duty_text,
                )
                retained = shared.retained.get(retained_key)
                if retained is None:
                    retained = shared.retained_for(*retained_key)
                retained.count += 1
                if retain_text < retained.min_retain:  # noqa: PLR1730  (cheaper than min() per row)
                    retained.min_retain = retain_text
                kept = retained.samples
                if len(kept) < MAX_EXAMPLES:
                    kept.append((destroy_text, key, row[version_column], modified, retain_text))
                    if len(kept) == MAX_EXAMPLES:
                        kept.sort()
                elif destroy_text <= kept[-1][0] and (destroy_text, key, row[version_column]) < kept[-1][:3]:
                    kept[-1] = (destroy_text, key, row[version_column], modified, retain_text)
                    kept.sort()
                return
            # Outcome.take, inlined: this runs for most unheld rows of a large report.
            outcome = shared.unretained
            outcome.count += 1
            samples = outcome.samples
            if len(samples) < MAX_EXAMPLES:
                samples.append((key, row[version_column], modified))
                if len(samples) == MAX_EXAMPLES:
                    samples.sort()
            elif key <= samples[-1][0] and (key, row[version_column]) < samples[-1][:2]:
                samples[-1] = (key, row[version_column], modified)
                samples.sort()

        return fresh

    def _version_judge(self) -> Callable[[list[str], str, str | None, int, bool], bool]:  # noqa: PLR0915
        """The judge of one version, with the evaluator's settings bound as locals (one flat hot path).

        `successor` is the LastModified of the next newer entry of the key (None for the current version),
        `rank` its place among the key's noncurrent versions. Out of scope, under another prefix or held,
        a version is dealt with at once. Otherwise its outcome depends only on the key's first characters,
        the UTC day its clock starts (written, or made noncurrent), its rank, and its retention: the
        shared part is looked up, the version counted and offered as an example. True when in scope.
        """
        modified_column, version_column = self._modified, self._version
        hold_column = self._hold if self._hold is not None and not self._lock_off else None
        retain_column = self._retain if self._retain is not None and not self._lock_off else None
        prefix, span, rank_cap = self._prefix, self._prefix_span, self._rank_cap
        ((low, high), *more_days) = self._stamp_bounds
        tallies, fast, shared_by = self._tallies, self._fast, self._shared_by
        simple = not self._sizes_matter and self._rules is not None
        now_text, duty_text, slow = self._now_text, self._duty_text, self._judge
        in_scope = self._in_days
        mode_column, by_hour = self._mode, self._by_hour
        # Hour caches stand in for the full look-up when rules match whatever the key under the prefix and
        # a null version is not special: current versions by the hour written, noncurrent ones by their
        # rank (capped) and hiddenness, then the hour they became noncurrent.
        by_hour_open = simple and span == 0 and self._versioning != "Suspended"
        by_rank: list[dict[str, Shared]] = [{} for _ in range(2 * rank_cap + 2)]

        def shared_of(  # noqa: PLR0917  (the judge's arguments, passed on)
            row: list[str], key: str, modified: str, successor: str | None, rank: int, hidden: bool
        ) -> Shared:
            clock = modified if successor is None else successor
            fast_key = (
                key[:span],
                clock[:10],
                clock[11:23] == "00:00:00.000",
                row[version_column] == "null" if successor is None else -1 - min(rank, rank_cap),
                hidden,
            )
            shared = fast.get(fast_key)
            if shared is None:
                shared = fast[fast_key] = shared_by(row, key, modified, successor, rank, hidden)
            return shared

        def judge(  # noqa: PLR0911, PLR0912, PLR0915  (flat: every call costs time here)
            row: list[str], key: str, successor: str | None, rank: int, hidden: bool
        ) -> bool:
            modified = row[modified_column]
            if not (low <= modified <= high or (more_days and in_scope(modified[:10]))):
                return False
            if not key.startswith(prefix):
                return False
            if hold_column is not None and row[hold_column] == "ON":
                tallies.in_scope += 1
                if hidden:
                    tallies.hidden.add(FOREVER, key, row[version_column], modified)
                return True
            clock = modified if successor is None else successor
            # Only "...Z" stamps of 24 characters are read as text.
            if modified[23:] != "Z" or clock[23:] != "Z" or not simple:
                return slow(row, key, successor, rank, hidden)
            version_id = row[version_column]
            if by_hour_open:
                # Where nothing else counts, the hour the clock starts names the day and rules out midnight.
                hours = by_hour if successor is None else by_rank[(rank if rank < rank_cap else rank_cap) * 2 + hidden]
                shared = hours.get(clock[:13])
                if shared is None:
                    shared = shared_of(row, key, modified, successor, rank, hidden)
                    if clock[11:13] != "00":
                        hours[clock[:13]] = shared
            else:
                shared = shared_of(row, key, modified, successor, rank, hidden)
            retain_text = row[retain_column] if retain_column is not None else ""
            if retain_text > now_text:
                if len(retain_text) != 24 or retain_text[-1] != "Z" or shared.lifecycle is None:
                    return slow(row, key, successor, rank, hidden)
                # Under retention: destroyed at the later of its lifecycle date and its retain-until date.
                compliance = mode_column is not None and row[mode_column] == "COMPLIANCE"
                lifecycle_text = shared.lifecycle_text
                destroy_text = retain_text if retain_text > lifecycle_text else lifecycle_text
                risky = shared.has_rule and destroy_text < duty_text
                ending = retain_text < duty_text
                retained = shared.retained.get((compliance, risky, ending))
                if retained is None:
                    retained = shared.retained_for(compliance, risky, ending)
                retained.count += 1
                if retain_text < retained.min_retain:  # noqa: PLR1730  (cheaper than min() per row)
                    retained.min_retain = retain_text
                kept = retained.samples
                if len(kept) < MAX_EXAMPLES:
                    kept.append((destroy_text, key, version_id, modified, retain_text))
                    if len(kept) == MAX_EXAMPLES:
                        kept.sort()
                elif (destroy_text, key, version_id) < kept[-1][:3]:
                    kept[-1] = (destroy_text, key, version_id, modified, retain_text)
                    kept.sort()
                return True
            # Outcome.take, inlined: this runs for most rows of a large report.
            outcome = shared.unretained
            outcome.count += 1
            samples = outcome.samples
            if len(samples) < MAX_EXAMPLES:
                samples.append((key, version_id, modified))
                if len(samples) == MAX_EXAMPLES:
                    samples.sort()
            elif key <= samples[-1][0] and (key, version_id) < samples[-1][:2]:
                samples[-1] = (key, version_id, modified)
                samples.sort()
            return True

        return judge

    def _decode(self, raw: str) -> str:
        """A URL-encoded key as stored. Keys share their folders: each folder is decoded once."""
        if "%" not in raw and "+" not in raw:
            return raw
        folder, slash, name = raw.rpartition("%2F")
        if not slash:
            return unquote_plus(raw)
        decoded = self._folders.get(folder)
        if decoded is None:
            if len(self._folders) >= _FOLDER_CACHE:
                self._folders.clear()
            decoded = self._folders[folder] = unquote_plus(folder)
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        return f"{decoded}/{name}"

    def _in_days(self, day: str) -> bool:
        return any(low <= day <= high for low, high in self._days)

    def _shared_by(  # noqa: PLR0917  (the judge's arguments, passed on)
        self, row: list[str], key: str, modified: str, successor: str | None, rank: int, hidden: bool
    ) -> Shared:
        """What unheld versions like this one share: their lifecycle date and unretained outcome."""
        lifecycle, assumed = self._lifecycle(row, key, modified, successor, rank)
        text = "~" if lifecycle is None or lifecycle.at >= FOREVER else stamp_ceil(lifecycle.at)
        return Shared(lifecycle, text, assumed, self._outcome_of(lifecycle, assumed, hidden), hidden)

    def _outcome_of(self, lifecycle: LifecycleDate | None, assumed: bool, hidden: bool) -> Outcome:
        """The shared outcome of unretained, unheld versions with this lifecycle date."""
        protection, reason = self._unretained_protection()
        destroy = None if lifecycle is None else lifecycle.at
        rule_id = None if lifecycle is None else lifecycle.rule_id
        if lifecycle is None:
            reason = reason or "the lifecycle rules could not be read"
        outcome_key = (protection, destroy, rule_id, assumed, hidden)
        outcome = self._outcomes.get(outcome_key)
        if outcome is None:
            outcome = self._outcomes[outcome_key] = Outcome(protection, destroy, rule_id, assumed, reason, hidden)
        return outcome

    def _unretained_protection(self) -> tuple[str, str | None]:
        """Protection of an unheld version without retention: none, or unknown when the report hides the lock."""
        if self._lock_off:
            return "none", None
        if self._hold is None or self._retain is None:
            return "unknown", self._blind_reason
        return "none", None

    def _judge(self, row: list[str], key: str, successor: str | None, rank: int, hidden: bool) -> bool:
        """One version: in scope? protected? when would lifecycle destroy it? True when it was in scope."""
        modified = row[self._modified]
        day = modified[:10]
        for low, high in self._days:
            if low <= day <= high:
                break
        else:
            return False
        if not key.startswith(self._prefix):
            return False
        hold = None if self._hold is None else row[self._hold]
        if hold == "ON" and not self._lock_off:
            # Held: never destroyed, whatever the rules say. Counted, and nothing else to work out.
            tallies = self._tallies
            tallies.in_scope += 1
            if hidden:
                tallies.hidden.add(FOREVER, key, row[self._version], modified)
            return True
        retain_text = "" if self._retain is None or self._lock_off else row[self._retain]
        lifecycle, assumed = self._lifecycle(row, key, modified, successor, rank)
        if retain_text:
            self._judge_retained(row, key, modified, retain_text, lifecycle, assumed, hidden)
            return True
        protection, reason = self._unretained_protection()
        if lifecycle is None:
            destroy, rule_id = None, None
            reason = reason or "the lifecycle rules could not be read"
        else:
            destroy, rule_id = lifecycle.at, lifecycle.rule_id
        outcome_key = (protection, destroy, rule_id, assumed, hidden)
        outcome = self._outcomes.get(outcome_key)
        if outcome is None:
            outcome = self._outcomes[outcome_key] = Outcome(protection, destroy, rule_id, assumed, reason, hidden)
        outcome.take(key, row[self._version], modified)
        return True

    def _judge_retained(  # noqa: PLR0917  (per row, positional)
        self,
        row: list[str],
        key: str,
        modified: str,
        retain_text: str,
        lifecycle: LifecycleDate | None,
        assumed: bool,
        hidden: bool,
    ) -> None:
        retain_until = parse_timestamp(retain_text)
        active = retain_until is not None and retain_until > self._now
        mode = row[self._mode] if self._mode is not None else None
        hold_known = self._hold is not None
        if active:
            protection = "compliance" if mode == "COMPLIANCE" else "governance"
        else:
            protection = "none" if hold_known else "unknown"
        if lifecycle is None:
            destroy = None
        elif active and retain_until is not None and retain_until > lifecycle.at:
            destroy = retain_until
        else:
            destroy = lifecycle.at
        reason = None
        if protection == "unknown":
            reason = self._blind_reason
        elif destroy is None:
            reason = "the lifecycle rules could not be read"
        self._tallies.record(
            key,
            row[self._version],
            modified,
            protection,
            destroy,
            None if lifecycle is None else lifecycle.rule_id,
            retain_until if active else None,
            assumed,
            reason,
            hidden,
        )

    def _lifecycle(
        self, row: list[str], key: str, modified: str, successor: str | None, rank: int
    ) -> tuple[LifecycleDate | None, bool]:
        rules = self._rules
        if rules is None:
            return None, False
        size = None
        if self._sizes_matter:
            size_text = row[self._size] if self._size is not None else ""
            size = int(size_text) if size_text else None
            matching = tuple(i for i, rule in enumerate(rules) if rule_matches(rule, key, size, None))
        else:
            # Without size filters a rule's match depends only on the key's first characters.
            head = key[: self._prefix_span]
            found = self._matching_cache.get(head)
            if found is None:
                found = self._matching_cache[head] = tuple(
                    i for i, rule in enumerate(rules) if rule_matches(rule, key, None, None)
                )
            matching = found
        if not matching:
            return NEVER_BY_LIFECYCLE, False
        version_id = row[self._version]
        if successor is None:
            null_current = self._versioning == "Suspended" and version_id == "null"
            cache_key: tuple[Any, ...] = (matching, True, null_current, clock_day(modified))
        else:
            cache_key = (matching, False, clock_day(successor), min(rank, self._rank_cap))
        cached = self._lifecycle_cache.get(cache_key)
        if cached is None:
            timeline = VersionTimeline(
                key=key,
                version_id=version_id,
                last_modified=parse_timestamp(modified) or FOREVER,
                size=size,
                tags=None,
                is_latest=successor is None,
                successor_modified=None if successor is None else parse_timestamp(successor),
                noncurrent_rank=None if successor is None else rank,
            )
            cached = lifecycle_date(timeline, [rules[i] for i in matching], self._versioning)
            self._lifecycle_cache[cache_key] = cached
        assumed = bool(self._tagged) and not self._tagged.isdisjoint(matching) and cached.rule_id is not None
        return cached, assumed

    def fold(self) -> VersionTallies:
        """Fold the counted outcomes into the tallies and return them."""
        retained = [kept for shared in self._fast.values() for kept in shared.retained.values()]
        fold_outcomes(self._tallies, self._outcomes.values(), retained)
        self._outcomes.clear()
        self._fast.clear()
        self._by_hour.clear()
        return self._tallies
