"""The typed results of the API: a found passage, a citation and an answer.

``to_dict()`` gives the JSON objects of ``kb search --json`` and ``kb ask --json``
(their field names are a public format: evaluation tools read them), and
``from_dict()`` reads them back (the app stores answers as JSON).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Self


@dataclass
class Passage:
    """A passage from the index as it is shown and cited: where it stands and its text."""

    source: str = ""  # document id (file name)
    title: str = ""
    short_title: str = ""
    year: int | None = None
    doc_type: str = ""
    page: int | None = None
    section: str = ""
    text: str = ""
    chunk_id: str = ""
    author: str = ""
    rank: int = 0
    score: float = 0.0
    speaker: str = ""  # who says it: a byline in the text ("CNV Onderwijs"), or the document's author
    story: str = ""  # the story or contribution of a collection it belongs to
    notes: dict[str, str] = field(default_factory=dict)  # footnotes whose marker stands in text: marker → note
    note_at: dict[str, int] = field(default_factory=dict)  # marker → offset in text, inside its sentence

    def notes_of(self, sentence: str) -> dict[str, str]:
        """The footnotes whose marker stands in ``sentence`` (a part of :attr:`text`)."""
        start = self.text.find(sentence) if sentence else -1
        if start < 0:
            return {}
        end = start + len(sentence)
        return {m: note for m, note in self.notes.items() if start < self.note_at.get(m, -1) <= end}

    @property
    def quoted_where(self) -> str:
        """'p. 4', or the innermost section in quotation marks unless it has its own; '' when neither."""
        if self.page:
            return f"p. {self.page}"
        w = self.where
        if not w:
            return ""
        return w if w[:1] in "“\"‘'" else f"“{w}”"

    @property
    def where(self) -> str:
        """'p. 4' or the innermost section; '' when neither is known."""
        if self.page:
            return f"p. {self.page}"
        return self.section.split(" > ")[-1].strip()

    def source_line(self) -> str:
        """'CNV Onderwijs, in: Title (2016), section' — how a source is named in answers and lists
        (the speaker first when a byline names one other than the document's author)."""
        line = f"{self.title} ({self.year or 'z.j.'})"
        if self.page:
            line = f"{line}, p. {self.page}"
        elif self.section:
            line = f"{line}, {self.section}"
        return f"{self.speaker}, in: {line}" if self.speaker_differs else line

    @property
    def speaker_differs(self) -> bool:
        """Whether the passage's speaker is someone other than the document's author."""
        return bool(self.speaker) and self.speaker.strip() != (self.author or "").strip()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Self:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class Citation(Passage):
    """A cited passage: number ``n`` in the answer and the sentences quoted from it."""

    n: int = 0
    quotes: list[str] = field(default_factory=list)  # every one is a substring of ``text``

    @property
    def quote(self) -> str:
        return " … ".join(self.quotes)

    def to_dict(self) -> dict:
        d = super().to_dict()
        d.pop("rank"), d.pop("score")
        return {"n": self.n, **d, "quote": self.quote}

    @classmethod
    def from_dict(cls, d: dict) -> Self:
        quotes = d.get("quotes") or ([d["quote"]] if d.get("quote") else [])
        return super().from_dict({**{k: v for k, v in d.items() if k != "quote"}, "quotes": list(quotes)})


class SearchResults(list[Passage]):
    """The passages ``kb.search`` found, best first: a list, with the query searched for.

    ``corrected_query`` is the query with its misspelt words corrected, as it was searched
    ("" when nothing was corrected): the app shows it as "Gezocht op: …".
    """

    def __init__(self, passages=(), corrected_query: str = ""):
        super().__init__(passages)
        self.corrected_query = corrected_query


@dataclass
class Term:
    """A glossary term that occurs in the question."""

    term: str
    full: str
    uitleg: str


@dataclass
class Excerpt:
    """A run of contiguous sentences of one cited passage, in reading order (a list: its
    lead-in and "- " items, one a line)."""

    n: int  # the number of its citation
    text: str


#: ``Answer.to_dict`` format: 2 added the answer's parts (body, excerpts, not_said, …)
ANSWER_FORMAT = 2


@dataclass
class Answer:
    """The answer to one question: its parts, citations, or an abstention.

    The parts are what a shell renders: ``notice`` (said first), ``lead`` (parents: a term
    explained), ``not_said`` (a partial answer: what the sources do not say), ``body`` (the
    cited text with [n] markers, made of ``excerpts``), ``glossary_extra`` (marked as not
    from the sources), ``persona_note`` (parents: where to go), the ``citations`` and, with
    an abstention, the ``nearby`` passages. ``answer`` is all of it as one text, for the
    command line and for older readers of ``--json``; nothing is parsed back out of it.

    ``abstained`` is True when the sources do not answer the asked fact; a *partial*
    answer ("De bronnen zeggen niet …; wel: …") is an abstention that still cites the
    related passages it shows.
    """

    question: str
    answer: str = ""
    abstained: bool = True
    mode: str = "extractive"  # "extractive" | "llm"
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Passage] = field(default_factory=list)
    persona: str | None = None
    notice: str | None = None
    terms: list[Term] = field(default_factory=list)
    query: str = ""  # what was searched for (a follow-up joined with its context)
    searched_also: list[str] = field(default_factory=list)  # policy terms added for everyday words
    partial: bool = False
    kind: str = ""  # the question type: definition, frequency, person, ...
    evidence: dict = field(default_factory=dict)  # the features and probability of the abstention model
    lead: str | None = None  # parents: a glossary explanation before the answer
    bullets: list[str] | None = None  # trainers: the answer as bullets
    nearby: list[Passage] = field(default_factory=list)  # shown with an abstention
    seconds: float = 0.0
    body: str = ""  # the cited text with [n] markers (the excerpts, or the trainer's bullets)
    excerpts: list[Excerpt] = field(default_factory=list)
    not_said: str | None = None  # "De bronnen zeggen niet …" (partial answers and abstentions)
    glossary_extra: str | None = None  # the glossary's explanation, not a quote from the sources
    persona_note: str | None = None  # parents: where to go for their own child
    topic: str = ""  # a follow-up: the topic taken from the earlier question
    corrected_query: str = ""  # the question with its misspelt words corrected ("" when none was)
    repeats_previous: bool = False  # a follow-up answered, on purpose and said so, by the previous answer

    def add_notice(self, text: str) -> None:
        """Say ``text`` before the answer, after what is already said there."""
        self.notice = f"{self.notice} {text}" if self.notice else text

    def to_dict(self) -> dict:
        return {
            "format": ANSWER_FORMAT,
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "partial": self.partial,
            "mode": self.mode,
            "citations": [c.to_dict() for c in self.citations],
            "retrieved": [p.to_dict() for p in self.retrieved],
            "persona": self.persona,
            "notice": self.notice,
            "terms": [asdict(t) for t in self.terms],
            "query": self.query,
            "searched_also": list(self.searched_also),
            "kind": self.kind,
            "evidence": self.evidence,
            "lead": self.lead,
            "bullets": self.bullets,
            "repeats_previous": self.repeats_previous,
            "nearby": [p.to_dict() for p in self.nearby],
            "seconds": self.seconds,
            "body": self.body,
            "excerpts": [asdict(e) for e in self.excerpts],
            "not_said": self.not_said,
            "glossary_extra": self.glossary_extra,
            "persona_note": self.persona_note,
            "topic": self.topic,
            "corrected_query": self.corrected_query,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Answer:
        return cls(
            question=d.get("question", ""),
            answer=d.get("answer", ""),
            abstained=bool(d.get("abstained", True)),
            partial=bool(d.get("partial", False)),
            mode=d.get("mode") or "extractive",
            citations=[Citation.from_dict(c) for c in d.get("citations") or []],
            retrieved=[Passage.from_dict(p) for p in d.get("retrieved") or []],
            persona=d.get("persona"),
            notice=d.get("notice"),
            terms=[Term(t.get("term", ""), t.get("full", ""), t.get("uitleg", "")) for t in d.get("terms") or []],
            query=d.get("query") or d.get("question", ""),
            searched_also=list(d.get("searched_also") or []),
            kind=d.get("kind") or "",
            evidence=d.get("evidence") or {},
            lead=d.get("lead"),
            bullets=d.get("bullets"),
            nearby=[Passage.from_dict(p) for p in d.get("nearby") or []],
            seconds=float(d.get("seconds") or 0.0),
            # an answer stored before format 2 has no parts: its whole text is the body
            body=str(d.get("body") or "") if d.get("format", 1) >= ANSWER_FORMAT else str(d.get("answer") or ""),
            excerpts=[Excerpt(int(e.get("n", 0)), str(e.get("text", ""))) for e in d.get("excerpts") or []],
            not_said=d.get("not_said"),
            glossary_extra=d.get("glossary_extra"),
            persona_note=d.get("persona_note"),
            topic=d.get("topic") or "",
            corrected_query=d.get("corrected_query") or "",
        )


@dataclass
class SourceDocument:
    """A document in the index, as listed under "Bronnen"."""

    doc_id: str
    title: str
    short_title: str
    author: str
    year: int | None
    doc_type: str
    sectors: list[str]
    passages: int
    path: str

    @classmethod
    def from_manifest(cls, doc_id: str, entry: dict) -> SourceDocument:
        m = entry.get("meta") or {}
        return cls(
            doc_id,
            m.get("title") or doc_id,
            m.get("short_title") or m.get("title") or doc_id,
            m.get("author") or "",
            m.get("year") or None,
            m.get("doc_type") or "onbekend",
            list(m.get("sectors") or []),
            entry["chunk_count"] if "chunk_count" in entry else len(entry.get("chunk_ids") or []),
            entry.get("path") or "",
        )
