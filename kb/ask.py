"""From a Dutch question to an answer whose every sentence is backed by a cited passage.

``answer_question`` is what :func:`kb.ask` runs: validate the question, resolve a
follow-up against the history, retrieve (hybrid, glossary-expanded), decide whether
the evidence is strong enough, select and cite sentences (or let a configured
language model write the answer, checked afterwards), and present it for the persona.
"""

from __future__ import annotations

import time
from typing import Callable

from kb import answer as ex
from kb.config import Settings
from kb.conversation import normalise_question, resolve
from kb.glossary import expand_query, find_terms, mentions
from kb.retrieve import Hit, Retriever

PERSONAS = ("ouder", "leraar", "trainer")
PLAIN_TERMS = {"po", "vo", "mbo", "ouders", "extra ondersteuning"}  # no explanation needed for parents
RETRIEVE_K = 10

# Calibrated on eval/gold.jsonl (see eval/README.md): below this evidence score the
# sources do not answer the question.
ABSTAIN_THRESHOLD = 0.88


def _passage(h: Hit) -> dict:
    """A passage as cited: the search fields without rank and score."""
    d = h.as_dict(0)
    del d["rank"], d["score"], d["chunk_id"]
    return d


def answer_question(
    retriever: Retriever,
    question: str,
    history: list[dict] | None = None,
    persona: str | None = None,
    filters=None,
    settings: Settings | None = None,
    on_token: Callable[[str], None] | None = None,
    use_llm: bool | None = None,
    retrieval_mode: str = "hybrid",
    glossary: bool = True,
) -> dict:
    """Answer ``question``; ``retrieval_mode`` and ``glossary`` exist for ablations."""
    settings = settings or retriever.settings
    t0 = time.perf_counter()
    persona = persona if persona in PERSONAS else None
    q, notice = normalise_question(question)
    result = {
        "question": question,
        "answer": "",
        "abstained": True,
        "mode": "extractive",
        "citations": [],
        "retrieved": [],
        "persona": persona,
        "notice": notice,
        "terms": [],
    }
    if not q:
        result["answer"] = notice
        result["notice"] = None
        return result

    query = resolve(q, history)
    result["query"] = query
    terms = find_terms(query)
    result["terms"] = [{"term": t.term, "full": t.full, "uitleg": t.uitleg} for t in terms]
    expanded = expand_query(query) if glossary else query
    hits = retriever.search(query, k=RETRIEVE_K, filters=filters, mode=retrieval_mode,
                            lexical_query=expanded)
    result["retrieved"] = [h.as_dict(i + 1) for i, h in enumerate(hits)]

    scorer = ex.Scorer(expanded, retriever.lexical.idf)
    evidence = ex.assess(query, hits, scorer, known=retriever.lexical.knows, asked=q)
    result["evidence"] = {"dense": round(evidence.dense_top, 4), "coverage": round(evidence.coverage, 4),
                          "score": round(evidence.score, 4), "reasons": evidence.reasons}
    if not hits or evidence.reasons or evidence.score < ABSTAIN_THRESHOLD:
        _abstain(result, hits, persona, evidence.reasons)
        result["seconds"] = round(time.perf_counter() - t0, 4)
        return result

    llm_wanted = bool(settings.llm_base_url and settings.llm_model) if use_llm is None else use_llm
    if llm_wanted:
        from kb.llm_answer import generative_answer

        if generative_answer(settings, q, hits, history, result, on_token):
            _present(result, persona)
            result["seconds"] = round(time.perf_counter() - t0, 4)
            return result

    chosen = ex.select_sentences(query, hits, scorer)
    if not chosen:
        _abstain(result, hits, persona)
    else:
        _cite(result, hits, chosen)
        _present(result, persona)
    result["seconds"] = round(time.perf_counter() - t0, 4)
    return result


def _cite(result: dict, hits: list[Hit], chosen: list[ex.Sentence]) -> None:
    """Number the cited passages in order of use and write the answer with [n] markers."""
    numbers: dict[int, int] = {}
    quotes: dict[int, list[str]] = {}
    lines: list[tuple[str, int]] = []
    for s in chosen:
        n = numbers.setdefault(s.hit_index, len(numbers) + 1)
        quotes.setdefault(n, []).append(s.text)
        lines.append((s.text, n))
    result["citations"] = [
        {"n": n, **_passage(hits[i]), "quote": " … ".join(quotes[n]), "quotes": quotes[n],
         "chunk_id": hits[i].chunk_id}
        for i, n in numbers.items()
    ]
    result["abstained"] = False
    result["_lines"] = lines


def _present(result: dict, persona: str | None) -> None:
    """Persona changes the presentation, never the facts (the cited sentences)."""
    lines = result.pop("_lines", None)
    if lines is None:  # generative answer: text already written
        body = result["answer"]
        bullets = None
    else:
        is_list = all(t.lstrip().startswith(("- ", "• ")) or t[:3].strip().rstrip(".)").isdigit() for t, _ in lines[1:]) and len(lines) > 2
        if is_list:
            head, *items = lines
            body = f"{head[0]} [{head[1]}]\n" + "\n".join(f"{_as_item(t)} [{n}]" for t, n in items)
        else:
            body = " ".join(f"{t} [{n}]" for t, n in lines)
        bullets = [f"{_as_item(t)} [{n}]" for t, n in lines]
    result["answer"] = body
    if persona == "trainer" and bullets:
        sources = "\n".join(
            f"[{c['n']}] {c['title']} ({c['year'] or 'z.j.'})" + (f", p. {c['page']}" if c.get("page") else (f", {c['section']}" if c.get("section") else ""))
            for c in result["citations"]
        )
        result["answer"] = "\n".join(bullets) + "\n\nBronnen:\n" + sources
        result["bullets"] = bullets
    elif persona == "ouder":
        lead = ""
        # explain a term the parent actually used (not one matched through a variant)
        named = [t for t in result["terms"] if t["term"] not in PLAIN_TERMS
                 and mentions(result.get("query") or "", t["term"], t["full"])]
        if named:
            t = named[0]
            lead = f"Eerst een begrip: {t['full']} ({t['term']}) — {t['uitleg']}\n\nWat de bronnen zeggen:\n"
        result["lead"] = lead.strip() or None
        result["answer"] = lead + body + "\n\n" + ex.ABSTAIN_PARENT


def _as_item(text: str) -> str:
    t = text.strip()
    return t if t.startswith("- ") else f"- {t.lstrip('•* ').strip()}"


def _abstain(result: dict, hits: list[Hit], persona: str | None, reasons: list[str] | None = None) -> None:
    result["abstained"] = True
    result["citations"] = []
    nearby = result["retrieved"][:3]
    text = ex.ABSTAIN_TEXT
    if reasons:
        text += " (" + "; ".join(reasons) + ".)"
    if nearby:
        text += " Wel gevonden, maar geen antwoord op uw vraag:\n" + "\n".join(
            f"- {p['title']} ({p['year'] or 'z.j.'})" + (f", p. {p['page']}" if p.get("page") else (f" — {p['section']}" if p.get("section") else ""))
            for p in nearby
        )
    if persona == "ouder":
        text += "\n\n" + ex.ABSTAIN_PARENT
    result["answer"] = text
    result["nearby"] = nearby
