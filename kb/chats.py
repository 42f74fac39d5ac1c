"""Conversations and answer feedback of the app, in one SQLite file under ``KB_HOME``.

A conversation is a list of turns (a question and the full answer object of
:func:`kb.api.ask`). Feedback is kept per turn, together with a copy of the question,
the answer and the cited passages, so that an export stands on its own even after the
conversation is gone.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import time
import uuid
from contextlib import closing
from pathlib import Path

from kb.config import Settings
from kb.errors import KBError
from kb.results import Answer

DB_NAME = "gesprekken.sqlite3"
_ID = re.compile(r"[0-9a-f]{32}")
MAX_TURNS = 200  # a conversation keeps its last turns; older ones are dropped (their feedback stays)

FEEDBACK_FIELDS = (
    "id",
    "created",
    "updated",
    "conversation",
    "turn",
    "score",
    "rating",
    "comment",
    "persona",
    "mode",
    "abstained",
    "question",
    "answer",
    "citations",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    created REAL NOT NULL,
    persona TEXT,
    question TEXT NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns(conversation, id);
CREATE TABLE IF NOT EXISTS feedback (
    turn INTEGER PRIMARY KEY,
    conversation TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    score INTEGER,
    comment TEXT NOT NULL DEFAULT '',
    persona TEXT,
    mode TEXT,
    abstained INTEGER,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL
);
"""


def valid_id(value: str | None) -> bool:
    """A conversation id: exactly 32 hex digits (nothing before or after, not even a newline)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def new_id() -> str:
    return uuid.uuid4().hex


class ChatStore:
    """Small and thread-safe: every call opens its own connection.

    With ``retention_days`` (``KB_RETENTION_DAYS``), conversations not used for that many days
    are deleted before every read, so a store that lives as long as the app keeps nothing
    past its time."""

    def __init__(self, path: Path | str, retention_days: float = 0):
        self.path = Path(path)
        self.retention_days = retention_days
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)

    @classmethod
    def for_settings(cls, settings: Settings | None = None) -> ChatStore:
        """The store under ``KB_HOME``; with ``KB_RETENTION_DAYS`` set, older conversations are removed."""
        settings = settings or Settings.from_env()
        store = cls(settings.home / DB_NAME, retention_days=settings.retention_days)
        store.expire()
        return store

    def expire(self) -> int:
        """Delete what is older than the retention period (nothing without one); how many conversations."""
        if not self.retention_days or self.retention_days <= 0:
            return 0
        return self.forget(older_than_days=max(1.0, float(self.retention_days)))

    def forget(self, conversation: str | None = None, older_than_days: float | None = None) -> int:
        """Delete conversations with their turns and feedback: one, those not used for
        ``older_than_days`` (at least 1), or (neither given) all of them. Returns how many."""
        where: str = "1 = 1"
        args: list[object] = []
        if conversation is not None:
            where, args = "id = ?", [conversation]
        elif older_than_days is not None:
            if not older_than_days >= 1:  # also NaN; 0 or less would delete every conversation
                raise KBError(
                    f"'ouder dan' moet minstens 1 dag zijn, niet {older_than_days}; "
                    "alles wissen kan met kb forget zonder --older-than"
                )
            where, args = "updated < ?", [time.time() - older_than_days * 86400]
        with closing(self._connect()) as db, db:
            ids = [r[0] for r in db.execute(f"SELECT id FROM conversations WHERE {where}", args)]
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                marks = ",".join("?" * len(part))
                db.execute(f"DELETE FROM feedback WHERE conversation IN ({marks})", part)
                db.execute(f"DELETE FROM turns WHERE conversation IN ({marks})", part)
                db.execute(f"DELETE FROM conversations WHERE id IN ({marks})", part)
        if ids:
            with closing(sqlite3.connect(self.path, timeout=30)) as db:
                db.execute("VACUUM")  # deleted text does not linger in free pages
        return len(ids)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        return db

    # --- conversations ---------------------------------------------------------------
    def ensure(self, conversation: str) -> str:
        """Create the conversation if it does not exist yet; return its id."""
        if not valid_id(conversation):
            raise ValueError(f"invalid conversation id: {conversation!r}")
        now = time.time()
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR IGNORE INTO conversations (id, created, updated) VALUES (?, ?, ?)", (conversation, now, now)
            )
        return conversation

    def add_turn(self, conversation: str, question: str, result: Answer, persona: str | None = None) -> int:
        """Store a turn; a conversation keeps its last ``MAX_TURNS`` turns."""
        self.ensure(conversation)
        now = time.time()
        with closing(self._connect()) as db, db:
            cur = db.execute(
                "INSERT INTO turns (conversation, created, persona, question, result) VALUES (?, ?, ?, ?, ?)",
                (conversation, now, persona, question, json.dumps(result.to_dict(), ensure_ascii=False)),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation))
            db.execute(
                """DELETE FROM turns WHERE conversation = ? AND id NOT IN
                   (SELECT id FROM turns WHERE conversation = ? ORDER BY id DESC LIMIT ?)""",
                (conversation, conversation, MAX_TURNS),
            )
            return int(cur.lastrowid or 0)

    def turns(self, conversation: str) -> list[dict]:
        """The last ``MAX_TURNS`` turns in order: {id, created, persona, question, result (an Answer)}."""
        if not valid_id(conversation):
            return []
        self.expire()
        with closing(self._connect()) as db:
            rows = db.execute(
                """SELECT * FROM (SELECT id, created, persona, question, result FROM turns
                   WHERE conversation = ? ORDER BY id DESC LIMIT ?) ORDER BY id""",
                (conversation, MAX_TURNS),
            ).fetchall()
        return [{**dict(r), "result": Answer.from_dict(json.loads(r["result"]))} for r in rows]

    def history(self, conversation: str) -> list[dict]:
        """The conversation as chat messages for :func:`kb.api.ask`."""
        out: list[dict] = []
        for t in self.turns(conversation):
            out.append({"role": "user", "content": t["question"]})
            out.append({"role": "assistant", "content": t["result"].answer})
        return out

    # --- feedback --------------------------------------------------------------------
    def save_feedback(self, turn: int, score: int | None = None, comment: str | None = None) -> None:
        """Record or update the feedback on one answer (score: 1 = goed, 0 = niet goed).

        ``None`` leaves the stored value as it is, so score and comment can be given apart.
        """
        with closing(self._connect()) as db, db:
            row = db.execute(
                "SELECT conversation, persona, question, result FROM turns WHERE id = ?", (turn,)
            ).fetchone()
            if row is None:
                raise KeyError(f"no such turn: {turn}")
            result = Answer.from_dict(json.loads(row["result"]))
            now = time.time()
            db.execute(
                """INSERT INTO feedback (turn, conversation, created, updated, score, comment, persona,
                                         mode, abstained, question, answer, citations)
                   VALUES (?, ?, ?, ?, ?, COALESCE(?, ''), ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(turn) DO UPDATE SET
                       updated = excluded.updated,
                       score = COALESCE(?, feedback.score),
                       comment = COALESCE(?, feedback.comment)""",
                (
                    turn,
                    row["conversation"],
                    now,
                    now,
                    score,
                    comment,
                    row["persona"],
                    result.mode,
                    int(result.abstained),
                    row["question"],
                    result.answer,
                    json.dumps(_cited(result), ensure_ascii=False),
                    score,
                    comment,
                ),
            )

    def feedback_for(self, turn: int) -> dict | None:
        self.expire()
        with closing(self._connect()) as db:
            row = db.execute("SELECT score, comment FROM feedback WHERE turn = ?", (turn,)).fetchone()
        return dict(row) if row else None

    def feedback(self) -> list[dict]:
        """All feedback, oldest first, with the cited passages as a list."""
        self.expire()
        with closing(self._connect()) as db:
            rows = db.execute("SELECT rowid AS id, * FROM feedback ORDER BY created, turn").fetchall()
        out = []
        for r in rows:
            d = dict(r)
            d["citations"] = json.loads(d["citations"])
            d["abstained"] = bool(d["abstained"])
            d["rating"] = {1: "goed", 0: "niet goed"}.get(d["score"], "")
            d["created"] = _iso(d["created"])
            d["updated"] = _iso(d["updated"])
            out.append({k: d.get(k) for k in FEEDBACK_FIELDS})
        return out


def export_feedback(rows: list[dict], fmt: str = "jsonl") -> str:
    """The feedback as JSON Lines or CSV (citations as JSON in one column).

    In the CSV a cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return: a user's comment ``=HYPERLINK(…)``) starts with
    an apostrophe instead, so it is shown as the text it is."""
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=FEEDBACK_FIELDS)
        w.writeheader()
        for r in rows:
            row = {**r, "citations": json.dumps(r["citations"], ensure_ascii=False)}
            w.writerow({k: _as_text_cell(v) for k, v in row.items()})
        return buf.getvalue()
    raise ValueError(f"unknown format: {fmt}")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _as_text_cell(value):
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _cited(result: Answer) -> list[dict]:
    keep = ("n", "source", "title", "year", "doc_type", "page", "section", "quote", "text", "chunk_id")
    return [{k: c.to_dict().get(k) for k in keep} for c in result.citations]


def _iso(ts: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(ts)) if ts else ""
