"""Orders modified by later ones: who was told what, and which notices still bind through an amendment.

When an order is modified (a new order names it in `supersedes_id`), its custodians' holds are carried
to the new order at once, so every check of "held by an active order" still finds them. What they were
told stays on the earlier order: the notice they got (and may have acknowledged) was issued there, and
it is still the one they must answer until the new version is issued to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import CTE, Select, and_, exists, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import Exists

from preservation.models import CustodianHold, HoldNotice, PreservationOrder
from preservation.services.unit import Unit


def order_and_earlier(order: PreservationOrder) -> list[PreservationOrder]:
    """The order, then each order it modifies, newest first."""
    chain = [order]
    earlier = order.supersedes
    while earlier is not None and earlier not in chain:
        chain.append(earlier)
        earlier = earlier.supersedes
    return chain


def was_told(unit: Unit, hold: CustodianHold) -> bool:
    """Whether the custodian was sent a notice (not silent) of this hold, or of an earlier version of its order."""
    order_ids = [order.id for order in order_and_earlier(hold.order)]
    return bool(
        unit.session.scalar(
            select(
                exists().where(
                    HoldNotice.custodian_id == hold.custodian_id,
                    HoldNotice.order_id.in_(order_ids),
                    HoldNotice.kind != "release",
                    HoldNotice.silent.is_(False),
                )
            )
        )
    )


def binding_orders() -> CTE:
    """Rows (order_id, active_id): each active order with itself, and each modified order with the active
    order that supersedes it, however many amendments later. A released end of the chain binds nothing."""
    anchor = select(
        PreservationOrder.id.label("order_id"),
        PreservationOrder.supersedes_id.label("supersedes_id"),
        PreservationOrder.id.label("active_id"),
    ).where(PreservationOrder.status == "active")
    binding = anchor.cte("binding_orders", recursive=True)
    earlier = aliased(PreservationOrder)
    return binding.union_all(
        select(earlier.id, earlier.supersedes_id, binding.c.active_id)
        .join(binding, earlier.id == binding.c.supersedes_id)
        .where(earlier.status == "modified")
    )


def still_binding(binding: CTE) -> Exists:
    """A condition on a query joined to CustodianHold and `binding` (on the hold's order): the custodian is
    still held, not released, by the active order at the end of the chain."""
    live = aliased(CustodianHold)
    return exists().where(
        live.order_id == binding.c.active_id,
        live.custodian_id == CustodianHold.custodian_id,
        live.status != "released",
    )


def told_of_an_earlier_version(unit: Unit, hold_ids: Sequence[int] | Select[Any]) -> set[int]:
    """Of these holds, those with no notice of their own whose custodian was sent one (not silent) under an
    order that the hold's active order modifies: carried through an amendment and owed the new version."""
    binding = binding_orders()
    own = aliased(HoldNotice)
    own_notice = exists().where(own.hold_id == CustodianHold.id, own.kind != "release")
    query = (
        select(CustodianHold.id)
        .join(binding, binding.c.active_id == CustodianHold.order_id)
        .join(
            HoldNotice,
            and_(HoldNotice.order_id == binding.c.order_id, HoldNotice.custodian_id == CustodianHold.custodian_id),
        )
        .where(
            CustodianHold.id.in_(hold_ids),
            binding.c.order_id != CustodianHold.order_id,
            CustodianHold.status != "released",
            HoldNotice.kind != "release",
            HoldNotice.silent.is_(False),
            ~own_notice,
        )
        .distinct()
    )
    return set(unit.session.scalars(query))
