"""Generative mode: a language model writes the answer; we check every [n] it cites."""

from __future__ import annotations

import re
from collections.abc import Callable

from ingest.sentences import sentences
from kb.config import Settings
from kb.llm import LLMError, build_messages, check_citations, stream_chat, support_sentences
from kb.question import Question
from kb.results import Answer, Citation
from kb.retrieve import Hit
from kb.text import analyze

LLM_PASSAGES = 5


def generative_answer(
    settings: Settings,
    question: Question,
    hits: list[Hit],
    history,
    result: Answer,
    on_token: Callable[[str], None] | None = None,
) -> bool:
    """Fill ``result`` with a checked generative answer; False (with a notice) to fall back."""
    passages = [h.passage() for h in hits[:LLM_PASSAGES]]
    try:
        reply = stream_chat(
            settings, build_messages(question.asked, [p.to_dict() for p in passages], history), on_token
        )
    except LLMError as e:
        result.notice = _join(
            result.notice, f"Het taalmodel gaf geen antwoord ({e}); hieronder het extractieve antwoord."
        )
        return False
    ok, reason, cited = check_citations(reply, [p.to_dict() for p in passages])
    if not ok:
        result.notice = _join(
            result.notice,
            f"Het antwoord van het taalmodel kon niet worden gecontroleerd ({reason}); hieronder het extractieve antwoord.",
        )
        return False
    if not cited:  # the model said the sources do not answer it
        return False
    result.mode = "llm"
    result.abstained = False
    answer = reply.strip()
    result.citations = []
    for new_n, old_n in enumerate(cited, start=1):
        p = passages[old_n - 1]
        claims = [s for s in re.split(r"(?<=[.!?])\s+", reply) if f"[{old_n}]" in s]
        quote = _supporting_sentence(p.text, " ".join(claims))
        result.citations.append(Citation(**{**p.to_dict(), "rank": 0, "score": 0.0}, n=new_n, quotes=[quote]))
        answer = answer.replace(f"[{old_n}]", f"[#{new_n}]")
    result.answer = answer.replace("[#", "[")
    return True


def _supporting_sentence(passage: str, claim: str) -> str:
    """The sentence of the passage that shares most content words with the claim."""
    target = set(analyze(claim))
    candidates = support_sentences(passage) or sentences(passage) or [passage]
    return max(candidates, key=lambda s: len(target & set(analyze(s))))


def _join(a: str | None, b: str) -> str:
    return f"{a} {b}" if a else b
