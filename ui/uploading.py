"""An upload runs in a thread of its own, so that nothing the user does cuts it off.

Streamlit stops a script run whenever the user clicks elsewhere (another tab, a new
question) or closes the tab. An upload done inside the script run was cut off with it:
the file saved, never indexed, no message. Here the script run only starts the job and
watches it; the job goes on to the end whatever happens to the page, and its messages
wait in the session until the user comes back to the "Bronnen" tab (a toast says so on
any other tab). The bar is drawn by a fragment that looks at the job twice a second.

What a job left behind when the whole process died (saved, not indexed) is found by
:func:`kb.index.doctor.unindexed_uploads`; the tab offers to finish it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import streamlit as st

from kb.errors import KBError
from kb.index.doctor import finish_uploads, unindexed_uploads
from kb.index.layout import write_lock
from kb.uploads import UploadResult, add_files
from ui import state

POLL_SECONDS = 0.5


@dataclass
class Job:
    """One upload: its progress as the bar shows it, and its results when done."""

    fraction: float = 0.0
    text: str = "Bestanden verwerken…"
    results: list[UploadResult] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def bar(self):
        """A stand-in for ``st.progress`` that the job's thread may call: it only records."""
        job = self

        class _Bar:
            def progress(self, fraction: float, text: str = "") -> None:
                job.fraction, job.text = fraction, text or job.text

        return _Bar()


def start(files: list[tuple[str, bytes]]) -> Job:
    """Add ``files`` in a thread; the job is kept in the session (``upload_job``)."""
    settings, embedder = state.settings(), state.retriever().embedder
    return _run(Job(), lambda progress: add_files(files, settings, progress=progress, embedder=embedder))


def finish_pending() -> Job:
    """Index what an earlier upload saved and did not index, in a thread as an upload."""
    settings, embedder = state.settings(), state.retriever().embedder

    def work(progress) -> list[UploadResult]:
        waiting = unindexed_uploads(settings)
        failed = dict(finish_uploads(settings, waiting, progress=progress, embedder=embedder))
        return [
            UploadResult(p.name, False, f"‘{p.name}’ is niet toegevoegd: {failed[p.name]}")
            if p.name in failed
            else UploadResult(p.name, True, f"‘{p.name}’ is toegevoegd en doorzoekbaar.")
            for p in waiting
        ]

    return _run(Job(text="Eerder opgeslagen bestanden toevoegen…"), work)


def _run(job: Job, work) -> Job:
    """Run ``work(progress)`` in a thread that outlives the script run; its results go to ``job``."""
    progress = state.ingest_progress(job.bar())

    def run() -> None:
        try:
            job.results = work(progress)
        except KBError as e:  # another writer did not finish in time, a server that went away
            job.results = [UploadResult("", False, f"De bestanden zijn niet toegevoegd: {e}")]
        except BaseException as e:  # the last safety net: every job ends with a message
            job.results = [
                UploadResult("", False, f"De bestanden zijn niet toegevoegd: onverwachte fout ({type(e).__name__}).")
            ]
        finally:
            job.done.set()

    threading.Thread(target=run, name="kb-upload", daemon=False).start()
    st.session_state.upload_job = job
    return job


def running() -> Job | None:
    job = st.session_state.get("upload_job")
    return job if job is not None and not job.done.is_set() else None


def collect() -> list[UploadResult] | None:
    """The results of this session's finished upload (once), or None."""
    job = st.session_state.get("upload_job")
    if job is None or not job.done.is_set():
        return None
    del st.session_state["upload_job"]
    return job.results


def pending_report() -> bool:
    """A job of this session that runs, or ended and has not been announced yet."""
    job = st.session_state.get("upload_job")
    return job is not None and st.session_state.get("upload_gemeld") is not job


def waiting_uploads() -> list[str]:
    """Names of uploads saved but not indexed, when no upload is being written right now."""
    try:
        with write_lock(state.settings(), wait=0):
            return [p.name for p in unindexed_uploads(state.settings())]
    except (KBError, OSError):
        return []  # someone is writing: what looks unindexed may be on its way


@st.fragment(run_every=POLL_SECONDS)
def watch(where) -> None:
    """The running job's bar in ``where``; when the job ends, the whole page is drawn again."""
    job = st.session_state.get("upload_job")
    if job is None:
        return
    if job.done.is_set():
        st.rerun(scope="app")
    where.progress(min(job.fraction, 1.0), text=job.text)


@st.fragment(run_every=POLL_SECONDS)
def watch_elsewhere() -> None:
    """On another tab: a toast when this session's upload has finished (its messages wait)."""
    job = st.session_state.get("upload_job")
    if job is None or st.session_state.get("upload_gemeld") is job:
        return
    if job.done.is_set():
        st.session_state.upload_gemeld = job
        ok = sum(r.ok for r in job.results)
        st.toast(
            f"De upload is klaar: {ok} van {len(job.results)} bestand(en) toegevoegd. De meldingen staan bij Bronnen.",
            icon=":material/upload_file:",
        )
