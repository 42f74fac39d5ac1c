"""Blocks that occur twice: repeats, teaser copies and pull quotes.

Blocks are compared by their word trigrams. A repeated block is dropped where it occurs
again (the first occurrence is kept), and so are short blocks next to a dropped repeat
(the rest of a repeated slide). A teaser block that repeats a section's opening
paragraph under a similar heading is dropped instead of the section's own copy, when
that section goes on with content of its own. A short block repeated inside a longer one
is a pull quote and is dropped.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from itertools import pairwise

from ingest.clean.draft import Draft, Piece


def letters(s: str) -> str:
    """The letters and digits of ``s``, lower-cased: what two copies have in common."""
    return re.sub(r"[^a-z0-9à-ÿ]", "", s.lower())


def lower_words(s: str) -> list[str]:
    """The words of ``s``, lower-cased, as :func:`similar_headings` compares them."""
    return re.findall(r"[a-z0-9à-ÿ]+", s.lower())


def _shingles(words: list[str]) -> set[tuple[str, ...]]:
    if len(words) < 3:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def similar_headings(a: str, b: str) -> bool:
    """Most words of the shorter heading are in the other one."""
    wa, wb = set(lower_words(a)), set(lower_words(b))
    if not wa or not wb:
        return False
    return len(wa & wb) / min(len(wa), len(wb)) >= 0.6


def _mark_headings(blocks: list[Piece]) -> None:
    """Each block's governing heading (``heading_idx``; None for headings themselves)."""
    cur: int | None = None
    for i, b in enumerate(blocks):
        if b.kind == "heading":
            cur = i
            b.heading_idx = None
        else:
            b.heading_idx = cur


#: an exact copy that occurs more often than this is searched once, for all its copies
MAX_SEARCHED_COPIES = 8
#: a block is compared with at most this many earliest blocks that share a trigram with it
MAX_COMPARED = 50


def _repeat_pairs(blocks: list[Piece]) -> list[tuple[int, int]]:
    """(earlier, later) blocks of about the same size that share most trigrams; marks pull quotes.

    A pair counts when the smaller block shares at least 80 % of its trigrams with the
    other, so it must share one of its rarest ``len // 5 + 2`` trigrams (prefix
    filtering): only those are looked up, which keeps the search near-linear in the
    document even when common trigrams recur in thousands of paragraphs. A block copied
    more than :data:`MAX_SEARCHED_COPIES` times (boilerplate, a pasted document) is
    searched by its first copy only; its copies pair up as a chain, each with the next.
    Of the blocks that share a rare trigram, only the first :data:`MAX_COMPARED` are
    compared (a paragraph with hundreds of near-copies, such as a pasted series of
    reports, would otherwise make the search quadratic).
    """
    cands = [i for i, b in enumerate(blocks) if b.kind in ("paragraph", "list") and not b.removed]
    copies: dict[str, list[int]] = defaultdict(list)
    for i in cands:
        copies[letters(blocks[i].text)].append(i)
    frequent = [members for members in copies.values() if len(members) > MAX_SEARCHED_COPIES]
    later_copies = {i for members in frequent for i in members[1:]}
    cands = [i for i in cands if i not in later_copies]

    words = {i: lower_words(blocks[i].text) for i in cands}
    sh = {i: _shingles(words[i]) for i in cands}
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i in cands:
        for s in sh[i]:
            index[s].append(i)

    pairs: list[tuple[int, int]] = []
    for i in cands:
        if len(words[i]) < 6:
            continue
        rarest = sorted(sh[i], key=lambda s: (len(index[s]), s))[: len(sh[i]) // 5 + 2]
        others = {j for s in rarest for j in index[s][:MAX_COMPARED] if j != i}
        for j in sorted(others):
            if (len(sh[i]), i) > (len(sh[j]), j):
                continue  # every pair is judged once, from its smaller block
            small, big = i, j
            overlap = len(sh[small] & sh[big]) / max(1, len(sh[small]))
            if overlap < 0.8:
                continue
            if len(sh[small]) / max(1, len(sh[big])) < 0.6:
                # a short block repeated inside a longer one: a pull quote
                if len(blocks[small].text) <= 300 and (
                    overlap >= 0.9 or letters(blocks[small].text) in letters(blocks[big].text)
                ):
                    blocks[small].removed = "pull quote"
                continue
            pairs.append((min(i, j), max(i, j)))
    for members in frequent:
        if blocks[members[0]].removed:  # a pull quote: so is every copy
            for k in members[1:]:
                blocks[k].removed = blocks[members[0]].removed
        pairs.extend(pairwise(members))
    return sorted(pairs)


def _judge_pairs(blocks: list[Piece], pairs: list[tuple[int, int]]) -> None:
    """Of each repeated pair, drop the teaser copy or the later repeat."""

    def first_under_heading(i: int) -> bool:
        h = blocks[i].heading_idx
        return h is not None and all(blocks[k].kind == "heading" or blocks[k].removed for k in range(h + 1, i))

    def section(h: int) -> range:
        """The blocks under heading ``h`` up to the next heading of its level or higher."""
        end = h + 1
        while end < len(blocks) and not (blocks[end].kind == "heading" and blocks[end].level <= blocks[h].level):
            end += 1
        return range(h + 1, end)

    dup_members = {k for p in pairs for k in p}
    letter_counts = Counter(letters(b.text) for b in blocks if b.kind != "heading")
    for k, blk in enumerate(blocks):
        if blk.kind != "heading" and letter_counts[letters(blk.text)] > 1:
            dup_members.add(k)  # short exact repeats ("Aanvliegroute en opbouw?") count too
    pairset = set(pairs)
    for a, b in sorted(pairset):
        if blocks[a].removed or blocks[b].removed:
            continue
        ha, hb = blocks[a].heading_idx, blocks[b].heading_idx
        run = (
            b + 1 < len(blocks)
            and blocks[a + 1].kind != "heading"
            and blocks[b + 1].kind != "heading"
            and (letters(blocks[a + 1].text) == letters(blocks[b + 1].text) or (a + 1, b + 1) in pairset)
        )
        teaser = (
            not run  # a copied run of blocks (a repeated slide) keeps its first copy
            and ha is not None
            and hb is not None
            and ha != hb
            and similar_headings(blocks[ha].text, blocks[hb].text)
            and first_under_heading(a)
            and first_under_heading(b)
            # the later section goes on with content of its own: it is the real one
            and any(blocks[k].kind != "heading" and k not in dup_members for k in section(hb))
        )
        if teaser:
            blocks[a].removed = "teaser"
        elif letters(blocks[a].text) == letters(blocks[b].text):
            blocks[b].removed = "repeat"  # the same block again: keep the first
        # two paragraphs that are only alike (a list of similar entries) both stay


def _drop_slide_rest(blocks: list[Piece]) -> None:
    """Short blocks repeated next to a removed repeat (a repeated slide) are removed too."""
    norm = [letters(b.text) for b in blocks]
    first_seen: dict[str, int] = {}
    for i, b in enumerate(blocks):
        if b.kind in ("paragraph", "list") and norm[i] and norm[i] not in first_seen:
            first_seen[norm[i]] = i

    def drops(i: int) -> bool:
        b = blocks[i]
        if b.removed or b.kind not in ("paragraph", "list") or not norm[i]:
            return False
        j = first_seen.get(norm[i])
        if j is None or j >= i or blocks[j].removed:
            return False
        return any(blocks[k].removed == "repeat" for k in (i - 1, i + 1) if 0 <= k < len(blocks))

    # a worklist: a block can only start to qualify when a neighbour was just removed
    todo = [i for i in range(len(blocks)) if drops(i)]
    while todo:
        i = todo.pop()
        if drops(i):
            blocks[i].removed = "repeat"
            todo.extend(k for k in (i - 1, i + 1) if 0 <= k < len(blocks))


def dedupe(d: Draft) -> None:
    """Pass: drop repeated blocks, teaser copies and pull quotes (see the module docstring)."""
    blocks = d.pieces
    _mark_headings(blocks)
    pairs = _repeat_pairs(blocks)
    _judge_pairs(blocks, pairs)
    _drop_slide_rest(blocks)
