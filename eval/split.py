"""The fixed split of the gold set: a *tune* part to fit and tune on, a *test* part to report on.

An item's part follows from its id alone (a hash), so it never changes when items are
added or reordered, and a new item lands in either part by chance. Everything fitted
or tuned (``python -m eval.fit``: the sentence ranker, the passage ranker, the
abstention model and their thresholds) sees only the tune part; ``kb eval`` reports
both parts side by side.
"""

from __future__ import annotations

import hashlib

SPLITS = ("tune", "test")
TEST_SHARE = 40  # percent of the items held back for testing


def split_of(item_id: str) -> str:
    """ "tune" or "test" for a gold item id."""
    bucket = int(hashlib.sha256(item_id.encode("utf-8")).hexdigest(), 16) % 100
    return "test" if bucket < TEST_SHARE else "tune"


def select(items: list[dict], split: str | None) -> list[dict]:
    """The items of one split ("tune" or "test"); all items for None or "all"."""
    if split in (None, "all"):
        return list(items)
    if split not in SPLITS:
        raise ValueError(f"onbekende split {split!r} (kies uit: {', '.join(SPLITS)}, all)")
    return [i for i in items if split_of(i["id"]) == split]
