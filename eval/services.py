"""The processes of a deployment, started for real: a Chroma server (``chroma run``) and the
app (``streamlit run app.py``), each on a free 127.0.0.1 port.

The tests, the benchmarks and ``deploy/compose.yaml`` run the same commands: the argument
lists below (``tests/test_deploy.py`` checks the compose file against them).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

CHROMA = Path(sys.executable).with_name("chroma")
CHROMA_HEALTH = "/api/v2/heartbeat"  # what kb.index.remote.connect asks first
APP_HEALTH = "/_stcore/health"  # Streamlit's own
APP_ROOT = Path(__file__).resolve().parent.parent


def chroma_args(data: Path | str, host: str, port: int) -> list[str]:
    """The arguments of ``chroma`` for a server on ``host:port`` that keeps its data in ``data``."""
    return ["run", "--path", str(data), "--host", host, "--port", str(port)]


def app_args(host: str, port: int) -> list[str]:
    """The arguments of ``streamlit`` for the app on ``host:port``."""
    return ["run", "app.py", "--server.address", host, "--server.port", str(port), "--server.headless", "true"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_env(settings) -> dict[str, str]:
    """The ``KB_*`` variables that make ``Settings.from_env()`` in another process (the app, the
    CLI, a benchmark's probe) use the same index as ``settings``."""
    values = {
        "HOME": settings.home,
        "ENCODER": settings.encoder,
        "MODEL_CACHE": settings.model_cache,
        "COLLECTION": settings.collection,
        "CHROMA_MODE": settings.chroma_mode,
    }
    if settings.server:
        values.update(
            CHROMA_HOST=settings.chroma_host,
            CHROMA_PORT=settings.chroma_port,
            CHROMA_SSL=int(settings.chroma_ssl),
            CHROMA_TIMEOUT=settings.chroma_timeout,
        )
    return {f"KB_{k}": str(v) for k, v in values.items()}


def came_up(proc: subprocess.Popen, health: str, seconds: float) -> bool:
    """Whether ``health`` answers 200 within ``seconds``, while ``proc`` runs."""
    deadline = time.monotonic() + seconds
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(health, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-4000:]
    except OSError:
        return "(no log)"


class ServerProcess:
    """A server started in a process group of its own: :meth:`kill` (SIGKILL, as a crash) and
    :meth:`stop` (SIGTERM, then SIGKILL)."""

    proc: subprocess.Popen | None = None

    def kill(self) -> None:
        """Stop the server at once (SIGKILL), as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class ChromaServer(ServerProcess):
    """``chroma run --path <data> --host 127.0.0.1 --port <free>``; :meth:`start` waits for its heartbeat."""

    def __init__(self, data: Path, port: int | None = None):
        self.data = data
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.log = data.with_name(data.name + ".log")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, wait: float = 60.0) -> ChromaServer:
        self.data.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(CHROMA), *chroma_args(self.data, self.host, self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
                start_new_session=True,
            )
        if came_up(self.proc, f"{self.url}{CHROMA_HEALTH}", wait):
            return self
        self.stop()
        raise RuntimeError(f"chroma run did not come up on {self.url}; its log:\n{self.read_log()}")

    def read_log(self) -> str:
        return _tail(self.log)


class AppServer:
    """``streamlit run app.py`` on a free 127.0.0.1 port with ``env`` (``KB_*``) on top of this
    process' environment (without ``KB_LLM_*``); a context manager that yields itself."""

    def __init__(self, env: dict[str, str], log: Path, port: int | None = None, timeout: float = 120.0):
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KB_LLM_")} | env
        self.log, self.timeout = log, timeout
        self.host, self.port = "127.0.0.1", port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> AppServer:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", *app_args(self.host, self.port)],
                cwd=APP_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if came_up(self.proc, f"{self.url}{APP_HEALTH}", self.timeout):
            return self
        self.stop()
        raise RuntimeError(f"streamlit did not start on {self.url}; its log ({self.log}):\n{self.read_log()}")

    def read_log(self) -> str:
        return _tail(self.log)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
