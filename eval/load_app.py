"""Load test of the running app: N browser pages ask at once, answers compared with one page.

    python -m eval.load_app [--users 20] [--questions 3] [--out eval/out/load_app.json]

Starts ``streamlit run app.py`` on a free loopback port (the index under ``KB_HOME``,
built first if missing), opens one headless Chromium (Debian's ``/usr/bin/chromium``,
driven by Playwright) and first lets a single page ask ``--questions`` gold questions,
then ``--users`` pages at once, each in its own browser context (its own Streamlit
session) and in its own order. The time of a question is from pressing Enter to the
answer's feedback row (the last thing an answer shows). Every page must get the same
answers as the single page, with no error on the page.

Where the time goes: the CPU seconds the Streamlit server and the browser used per
question, and the API's own time for the same questions (``kb.api.ask``, in process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from eval.gold import DEFAULT_GOLD, load_gold
from eval.metrics import percentile

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DONE = "Was dit antwoord nuttig?"  # the feedback row: the last thing an answer shows


@dataclass
class AppLoadResult:
    users: int
    questions: int
    single_p50: float
    single_p95: float
    p50: float
    p95: float
    wall: float
    errors: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)  # questions whose answer differed from one page's
    api_p50: float = 0.0  # kb.api.ask in process, same questions
    server_cpu_per_question: float = 0.0  # CPU seconds of the Streamlit process per question, under load
    browser_cpu_per_question: float = 0.0  # CPU seconds of Chromium per question, under load
    server_peak_rss_mb: float = 0.0

    def summary(self) -> str:
        return (
            f"1 page: p50 {self.single_p50:.2f} s, p95 {self.single_p95:.2f} s | {self.users} pages: "
            f"p50 {self.p50:.2f} s, p95 {self.p95:.2f} s, wall {self.wall:.1f} s for "
            f"{self.users * self.questions} questions | errors {len(self.errors)}, differing answers "
            f"{len(self.differing)} | API alone p50 {self.api_p50:.3f} s | CPU per question: server "
            f"{self.server_cpu_per_question:.2f} s, browser {self.browser_cpu_per_question:.2f} s | "
            f"server peak memory {self.server_peak_rss_mb:.0f} MB"
        )


@contextmanager
def running_app(home: Path, corpus: Path, log_path: Path, timeout: float = 120.0):
    """``streamlit run app.py`` on a free loopback port; yields (url, process); always stopped."""
    from eval.services import AppServer

    app = AppServer({"KB_HOME": str(home), "KB_CORPUS": str(corpus)}, log_path, timeout=timeout).start()
    try:
        yield app.url, app.proc
    finally:
        app.stop()


async def _page_user(browser, url: str, questions: list[str], answers: dict, times: list, errors: list) -> None:
    context = await browser.new_context(viewport={"width": 1200, "height": 1400}, locale="nl-NL")
    try:
        page = await context.new_page()
        page.on("pageerror", lambda e: errors.append(f"pagina-fout: {e}"))
        await page.goto(url, timeout=120_000)  # twenty pages at once on two cores
        box = page.locator('[data-testid="stChatInput"] textarea')
        await box.wait_for(timeout=300_000)
        for k, q in enumerate(questions, start=1):
            await box.fill(q)
            start = time.perf_counter()
            await box.press("Enter")
            await page.wait_for_function(_ANSWERED, arg=[DONE, k], timeout=300_000)
            times.append(time.perf_counter() - start)
            answers.setdefault(q, []).append(await _settled_answer(page, k))
            if await page.locator('[data-testid="stException"]').count():
                errors.append(f"{q}: foutmelding op de pagina")
    except Exception as e:  # counted, never raised: the figure is the number of failures
        errors.append(f"{type(e).__name__}: {str(e)[:300]}")
    finally:
        await context.close()


# the k-th answer is on the page: k assistant messages that end in the feedback row
_ANSWERED = """([text, k]) => [...document.querySelectorAll('[data-testid="stChatMessage"]')]
    .filter(e => e.innerText.includes(text)).length >= k"""
_KTH_ANSWER = """([text, k]) => [...document.querySelectorAll('[data-testid="stChatMessage"]')]
    .filter(e => e.innerText.includes(text))[k - 1].innerText"""


async def _settled_answer(page, k: int) -> str:
    """The text of the k-th answer up to its feedback row, once it no longer changes."""
    text = None
    for _ in range(40):
        now = (await page.evaluate(_KTH_ANSWER, [DONE, k])).split(DONE)[0].strip()
        if now == text:
            return now
        text = now
        await page.wait_for_timeout(250)
    return text or ""


def _cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _browser_processes() -> list[psutil.Process]:
    """This process's Chromium children; one that exits while being looked at is skipped."""
    found = []
    for p in psutil.Process().children(recursive=True):
        try:
            if "chrom" in p.name().lower():
                found.append(p)
        except psutil.Error:
            pass
    return found


async def _drive(url: str, server_pid: int, users: int, questions: list[str], seed: int = 0) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            single: dict[str, list[str]] = {}
            single_times: list[float] = []
            errors: list[str] = []
            await _page_user(browser, url, questions, single, single_times, errors)

            orders = [random.Random(seed + i).sample(questions, len(questions)) for i in range(users)]
            many: dict[str, list[str]] = {}
            times: list[float] = []
            browser_procs = _browser_processes()
            cpu_before = (_cpu(_tree(server_pid)), _cpu(browser_procs))
            start = time.perf_counter()
            await asyncio.gather(*(_page_user(browser, url, o, many, times, errors) for o in orders))
            wall = time.perf_counter() - start
            browser_procs = _browser_processes()
            cpu_after = (_cpu(_tree(server_pid)), _cpu(browser_procs))
        finally:
            await browser.close()
    asked = max(1, len(times))
    return {
        "single": single,
        "single_times": single_times,
        "many": many,
        "times": times,
        "errors": errors,
        "wall": wall,
        "server_cpu": (cpu_after[0] - cpu_before[0]) / asked,
        "browser_cpu": max(0.0, cpu_after[1] - cpu_before[1]) / asked,
    }


def _peak_rss_mb(pid: int) -> float:
    """The peak resident memory (VmHWM) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(users: int = 20, n_questions: int = 3, settings=None, log_dir: Path | None = None) -> AppLoadResult:
    from kb import api
    from kb.config import Settings

    settings = settings or Settings.from_env()
    questions = [i["question"] for i in load_gold(DEFAULT_GOLD) if not i.get("context_question")][:n_questions]
    if not api.index_exists(settings):
        api.ingest(settings=settings)
    api.ask(questions[0], settings=settings)  # warm
    api_times = []
    for q in questions:
        start = time.perf_counter()
        api.ask(q, settings=settings)
        api_times.append(time.perf_counter() - start)

    log_dir = log_dir or Path(settings.home)
    with running_app(settings.home, settings.corpus_dir, log_dir / "load_app-streamlit.log") as (url, proc):
        got = asyncio.run(_drive(url, proc.pid, users, questions))
        peak = _peak_rss_mb(proc.pid)
    differing = sorted(
        q for q in questions if any(a != got["single"].get(q, [None])[0] for a in got["many"].get(q, [None]))
    )
    return AppLoadResult(
        users=users,
        questions=len(questions),
        single_p50=percentile(got["single_times"], 50),
        single_p95=percentile(got["single_times"], 95),
        p50=percentile(got["times"], 50),
        p95=percentile(got["times"], 95),
        wall=got["wall"],
        errors=got["errors"],
        differing=differing,
        api_p50=percentile(api_times, 50),
        server_cpu_per_question=got["server_cpu"],
        browser_cpu_per_question=got["browser_cpu"],
        server_peak_rss_mb=peak,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.load_app", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="browser pages that ask at the same time")
    parser.add_argument("--questions", type=int, default=3, help="gold questions each page asks")
    parser.add_argument("--out", type=Path, default=Path("eval/out/load_app.json"))
    args = parser.parse_args(argv)
    result = run(args.users, args.questions)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(asdict(result), indent=1, ensure_ascii=False), encoding="utf-8")
    print(result.summary())
    return 1 if result.errors or result.differing else 0


if __name__ == "__main__":
    sys.exit(main())
