"""Would a static int8 copy of the embedder (activation scales fixed once) index faster than the dynamic one?

    .venv/bin/python benchmarks/static_int8.py [--rounds 2]

Static quantization fixes each activation's int8 scale from calibration texts (here `embed.PROBES`, texts
shipped in the package), so a text's vector no longer depends on the texts sharing its pass, and chunks
could be embedded several to a pass. For each recipe this prints:

  cosine   the lowest cosine to float32 (and how many vectors fall under MIN_COSINE) on PROBES, the
           shipped corpus's chunks and the HTTPX docs' chunks (tests/data/otherdocs), one text per pass
  alone against 8 a pass  the largest difference between a text's vector alone and among seven others
  chunks/s those chunks embedded on every core (one single-threaded run per core, as `encode_chunks`
           does), float32 and today's dynamic copy alongside, recipes interleaved round by round

Not part of the test suite: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

from labchat.chunking import chunk_file
from labchat.embed import MIN_COSINE, PROBES, Embedder
from labchat.ingest import SourceFile, list_files, read_file
from labchat.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RECIPES = {
    "static, all linear layers": lambda name: True,
    "static, all but FFN outputs": lambda name: not _ffn_output(name),
}
"""Which linear layers (MatMul with a constant weight) each static copy puts in int8."""


def _ffn_output(name: str) -> bool:
    return name.endswith("output/dense/MatMul") and "attention" not in name


def chunk_texts(folder: Path, chunk_chars: int) -> list[str]:
    """The texts indexing embeds for a folder's chunks, each once."""
    texts = []
    for path in list_files(folder):
        source = read_file(path, folder)
        if isinstance(source, SourceFile):
            texts += [c.search_text for c in chunk_file(source, chunk_chars)]
    return list(dict.fromkeys(texts))


class _Calibration(CalibrationDataReader):
    """One text per pass, so padding never widens a range."""

    def __init__(self, embedder: Embedder, texts: list[str]) -> None:
        self.passes: Iterator[dict[str, np.ndarray]] = (
            _inputs(embedder, embedder.tokenizer.encode(t)) for t in texts)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self.passes, None)


def _inputs(embedder: Embedder, encoding: object) -> dict[str, np.ndarray]:
    arrays = {"input_ids": encoding.ids, "attention_mask": encoding.attention_mask,
              "token_type_ids": encoding.type_ids}
    return {name: np.array([arrays[name]], dtype=np.int64) for name in embedder.inputs}


def make_static(embedder: Embedder, keep: object, target: Path) -> Path:
    """uint8 activations, int8 weights per output channel, MinMax ranges over PROBES, and the layers'
    outputs left in float32 (onnxruntime runs each as one MatMulIntegerToFloat, as in the dynamic copy).
    The closest and fastest of the knobs tried: with outputs quantized too (QOperator, or QDQ's default)
    every layer in int8 fell to cosine 0.90; QDQ with int8 activations was left unfused (weights
    dequantized at every pass, slower than float32); int8 activations were no closer; per-tensor
    weights were further off (0.91 with every layer in int8)."""
    graph = onnx.load(str(embedder.model_file)).graph
    weights = {w.name for w in graph.initializer}
    nodes = [n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] in weights and keep(n.name)]
    quantize_static(embedder.model_file, target, _Calibration(embedder, PROBES),
                    quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"],
                    nodes_to_quantize=nodes, extra_options={"OpTypesToExcludeOutputQuantization": ["MatMul"]})
    return target


def single_threaded(path: Path) -> object:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def closeness(embedder: Embedder, session: object, sets: dict[str, list[str]]) -> str:
    """Lowest cosine (vectors under MIN_COSINE) per set, and the largest alone-versus-batched difference."""
    parts, spread = [], 0.0
    for name, texts in sets.items():
        alone = embedder._encode(session, texts, 1)
        spread = max(spread, float(np.abs(alone - embedder._encode(session, texts, 8)).max()))
        cosines = (alone * embedder.encode(texts)).sum(axis=1)
        parts.append(f"{name} {cosines.min():.4f} ({int((cosines < MIN_COSINE).sum())} under)")
    return f"{', '.join(parts)}; alone against 8 a pass {spread:.1e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = Settings()
    embedder = Embedder(settings)
    sets = {"probes": PROBES, "corpus": chunk_texts(ROOT / "corpus", settings.chunk_chars),
            "httpx": chunk_texts(ROOT / "tests/data/otherdocs", settings.chunk_chars)}
    runs = {"float32, 8 a pass": (single_threaded(embedder.model_file), 8)}
    if embedder.chunk_session is not None:
        runs[f"dynamic ({embedder.chunk_vectors}), 1 a pass"] = (embedder.chunk_session, 1)
    with tempfile.TemporaryDirectory() as folder:
        for recipe, keep in RECIPES.items():
            session = single_threaded(make_static(embedder, keep, Path(folder) / f"{len(runs)}.onnx"))
            print(f"{recipe}: {closeness(embedder, session, sets)}", flush=True)
            runs.update({f"{recipe}, {batch} a pass": (session, batch) for batch in (1, 4)})
    texts = sets["corpus"] + sets["httpx"]
    rates: dict[str, list[float]] = {name: [] for name in runs}
    with ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0))) as pool:
        for _ in range(args.rounds):
            for name, (session, batch) in runs.items():
                start = time.perf_counter()
                embedder._encode(session, texts, batch, pool.map)
                rates[name].append(len(texts) / (time.perf_counter() - start))
    load = os.getloadavg()[0]
    print(f"chunks/s over {len(texts)} chunks, {args.rounds} interleaved rounds, load average {load:.1f}:")
    for name, rate in rates.items():
        print(f"  {name:55s} {' '.join(f'{r:5.0f}' for r in rate)}")


if __name__ == "__main__":
    main()
