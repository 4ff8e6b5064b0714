"""GET /api/analytics/summary: daily counts, the checkout funnel and revenue, from aggregates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from models import PixelDailyAggregate, PixelDailyRevenue
from server.problem import Problem

FUNNEL = ("product_viewed", "product_added_to_cart", "checkout_started", "checkout_completed")
DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 366


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


async def summary(shop_id: int, *, start: date, end: date) -> dict[str, Any]:
    """Counts per day and event name, the funnel with conversion rates, revenue by currency."""
    rows = (
        await PixelDailyAggregate.filter(shop_id=shop_id, day__gte=start, day__lte=end)
        .order_by("day", "name")
        .values("day", "name", "count", "distinct_clients")
    )
    days: dict[str, list[dict[str, Any]]] = {}
    totals: dict[str, int] = {}
    for row in rows:
        days.setdefault(row["day"].isoformat(), []).append(
            {
                "name": row["name"],
                "count": row["count"],
                "distinct_clients": row["distinct_clients"],
            }
        )
        totals[row["name"]] = totals.get(row["name"], 0) + row["count"]
    steps = []
    first = totals.get(FUNNEL[0], 0)
    previous: int | None = None
    for name in FUNNEL:
        count = totals.get(name, 0)
        steps.append(
            {
                "name": name,
                "count": count,
                # Of the step before; the first step has none.
                "conversion_rate": None if previous is None else _rate(count, previous),
                "rate_from_first": _rate(count, first),
            }
        )
        previous = count
    revenue_rows = await PixelDailyRevenue.filter(
        shop_id=shop_id, day__gte=start, day__lte=end
    ).values("currency", "orders", "revenue")
    revenue: dict[str, dict[str, Any]] = {}
    for row in revenue_rows:
        entry = revenue.setdefault(
            row["currency"], {"currency": row["currency"], "orders": 0, "amount": Decimal(0)}
        )
        entry["orders"] += row["orders"]
        entry["amount"] += row["revenue"]
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "days": [{"day": day, "events": events} for day, events in days.items()],
        "totals": [{"name": name, "count": count} for name, count in sorted(totals.items())],
        "funnel": steps,
        "revenue": [
            {**entry, "amount": str(entry["amount"].normalize())}
            for _, entry in sorted(revenue.items())
        ],
    }


def parse_range(query: Any, *, today: date | None = None) -> tuple[date, date]:
    """The inclusive [from, to] UTC day range of the query string; Problem 400 when bad."""
    today = today or datetime.now(UTC).date()
    try:
        end = date.fromisoformat(query["to"]) if query.get("to") else today
        start = (
            date.fromisoformat(query["from"])
            if query.get("from")
            else end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        )
    except (ValueError, OverflowError) as e:  # OverflowError: a range before year 1
        raise Problem(400, "from and to must be dates as YYYY-MM-DD") from e
    if start > end:
        raise Problem(400, "from must not be after to")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise Problem(400, f"The range may span at most {MAX_RANGE_DAYS} days")
    return start, end
