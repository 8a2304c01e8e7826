"""The figures shown from summed counters: per module 总人数 / 已登记 / 审核中 / 未登记, the destination
category breakdown with its parent categories and groups, and 毕业去向落实率 with its four parts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from quxiang.stats.domain.model import COUNTER_COLUMNS, MODULES

# placement_bucket in destination_categories.csv -> the rate's label
PLACEMENT_BUCKETS: Mapping[str, str] = {"unit_employment": "单位就业率", "entrepreneurship": "自主创业率",
                                        "freelance": "自由职业率", "further_study": "升学率"}
GROUP_LABELS: Mapping[str, str] = {"employed_at_unit": "单位就业", "not_at_unit": "自主创业、自由职业与升学",
                                   "not_placed": "暂不就业", "unknown": "未知类别"}


def empty_sums() -> dict[str, int]:
    return dict.fromkeys(COUNTER_COLUMNS, 0)


def add_sums(into: dict[str, int], other: Mapping[str, int]) -> dict[str, int]:
    for column in COUNTER_COLUMNS:
        into[column] += int(other.get(column) or 0)
    return into


# (module, its registered column, its review column), worked out once: the province view calls
# module_figures for every school on every request.
_MODULE_COLUMNS = tuple((m.value, f"{m.value}_registered", f"{m.value}_review") for m in MODULES)


def module_figures(sums: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """Per module: total, registered, review, unregistered; the three add up to the total."""
    total = int(sums.get("total") or 0)
    out = {}
    for module, registered_column, review_column in _MODULE_COLUMNS:
        registered = int(sums.get(registered_column) or 0)
        review = int(sums.get(review_column) or 0)
        out[module] = {"total": total, "registered": registered, "review": review,
                       "unregistered": total - registered - review}
    return out


@dataclass(frozen=True)
class Category:
    """What the breakdown needs of a destination category (quxiang.common.reference rows fit)."""

    code: str
    parent_code: str | None
    name_zh: str
    group: str
    placement_bucket: str | None


def rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def rates_adding_up(parts: Sequence[int], whole: int, places: int = 4) -> list[float]:
    """Each part's rate, rounded so that they add up to the rounded rate of their sum (largest
    remainders): 毕业去向落实率 is the sum of its four rates, and the figures shown must say so (1/3 and
    1/3 rounded alone are 0.3333 each, 0.6666 together, against 0.6667 for 2/3)."""
    if not whole:
        return [0.0] * len(parts)
    unit = 10 ** places
    exact = [part * unit / whole for part in parts]
    floors = [int(x) for x in exact]
    target = round(round(sum(parts) / whole, places) * unit)  # the total's rate exactly as ``rate`` rounds it
    by_remainder = sorted(range(len(parts)), key=lambda i: exact[i] - floors[i], reverse=True)
    for i in by_remainder[:max(0, target - sum(floors))]:
        floors[i] += 1
    return [f / unit for f in floors]


def breakdown(counts: Mapping[str, int], total: int, categories: Sequence[Category]) -> dict[str, Any]:
    """Counts per category (a parent category includes its sub-categories), per group, and the
    placement rate over ``total`` graduates. Codes not in ``categories`` are listed as they came."""
    known = {c.code: c for c in categories}
    rows = []
    for c in categories:
        own = int(counts.get(c.code, 0))
        children = sum(int(counts.get(k.code, 0)) for k in categories if k.parent_code == c.code)
        rows.append({"code": c.code, "parent_code": c.parent_code, "name": c.name_zh, "group": c.group,
                     "placement_bucket": c.placement_bucket, "count": own + children,
                     "rate": rate(own + children, total)})
    for code in sorted(set(counts) - set(known)):
        rows.append({"code": code, "parent_code": None, "name": code, "group": "unknown", "placement_bucket": None,
                     "count": int(counts[code]), "rate": rate(int(counts[code]), total)})
    groups: dict[str, int] = {}
    buckets = dict.fromkeys(PLACEMENT_BUCKETS, 0)
    for code, n in counts.items():
        c = known.get(code)
        group = c.group if c else "unknown"
        groups[group] = groups.get(group, 0) + int(n)
        if c is not None and c.placement_bucket in buckets:
            buckets[c.placement_bucket] += int(n)
    placed = sum(buckets.values())
    part_rates = rates_adding_up([buckets[b] for b in PLACEMENT_BUCKETS], total)
    return {
        "total": total,
        "registered": sum(int(n) for n in counts.values()),
        "categories": rows,
        "groups": [{"group": g, "name": GROUP_LABELS.get(g, g), "count": groups.get(g, 0),
                    "rate": rate(groups.get(g, 0), total)}
                   for g in dict.fromkeys([c.group for c in categories] + sorted(groups))],
        "placement": {
            "name": "毕业去向落实率", "count": placed, "rate": rate(placed, total),
            "parts": [{"bucket": b, "name": label, "count": buckets[b], "rate": part_rate}
                      for (b, label), part_rate in zip(PLACEMENT_BUCKETS.items(), part_rates, strict=True)],
        },
    }
