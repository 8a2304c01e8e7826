"""The ordering rule of the sync ledger: which record of a graduate's slot (考生号, kind) wins.

1. Within one aggregate (an agreement, a destination registration, an archive or hukou registration)
   the higher ``sequence`` (the aggregate's version) wins; an equal or lower one is stale. So a
   termination (解约) or a void (作废) after an approval stays that, whatever the arrival order.
2. Across aggregates of the same slot (agreement A terminated, agreement B approved later; a voided
   destination registration followed by an agreement) the aggregate with the later ``anchor_at``
   wins. An approval's anchor is its approval time (data.approved_at, else the event's occurred_at);
   an end event that arrives before its approval anchors at its own occurred_at. signing lets a
   graduate hold one approved agreement or destination registration at a time, so an aggregate's
   life (approval .. end) lies wholly before the next one's approval: A.approved <= A.ended <
   B.approved. Either anchor of A is therefore earlier than B's, and an end event of an older
   aggregate never clears a newer aggregate's approval.
3. A tie on anchor_at between two aggregates (not possible from signing) keeps what is there.

Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Held:
    """What the ledger holds for a slot."""

    aggregate_id: str
    sequence: int
    anchor_at: datetime


def supersedes(held: Held | None, aggregate_id: str, sequence: int, anchor_at: datetime) -> bool:
    """Whether an incoming record replaces the held one."""
    if held is None:
        return True
    if held.aggregate_id == aggregate_id:
        return sequence > held.sequence
    return anchor_at > held.anchor_at


def merged_anchor(held: Held | None, aggregate_id: str, anchor_at: datetime) -> datetime:
    """The anchor kept after a newer event of the same aggregate: the earlier of the two (an approval
    anchors at its approval even when its end event came first)."""
    if held is not None and held.aggregate_id == aggregate_id:
        return min(held.anchor_at, anchor_at)
    return anchor_at
