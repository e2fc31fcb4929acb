"""Fixtures for the labchat test suite.

Everything here is real: MiniLM (under onnxruntime), FAISS, and SmolLM2 through transformers.
Each model is loaded once per test session (`pipeline` owns the one `Embedder` and the one `Generator`),
and no test reads or writes the project's own `index/` folder: corpora and indexes live in tmp folders.
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest

from labchat.embed import Embedder
from labchat.generate import Generator
from labchat.pipeline import Pipeline
from labchat.settings import PROJECT_DIR, Settings

PROJECT_CORPUS = PROJECT_DIR / "corpus"
PROJECT_INDEX = PROJECT_DIR / "index"

if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    # A suite started in the background by a shell without job control inherits Ctrl-C ignored, and so
    # would the `labchat index` runs the Ctrl-C tests interrupt; a user's terminal delivers it to them.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _copy_corpus(target: Path) -> Path:
    shutil.copytree(PROJECT_CORPUS, target)
    return target


# ---------------------------------------------------------------------------------------------------------
# Shared fixtures: used by every test module, including tests/test_web.py.
#
#   pipeline          (session)  the one loaded Pipeline: embedder + index + SmolLM2, over a read-only tmp
#                                copy of the project corpus; do not edit its corpus or index.
#   embedder          (session)  the Pipeline's own Embedder (no second load).
#   local_model       (session)  SmolLM2 (the pipeline quotes unless given a generator or --generate).
#   session_settings  (session)  the Settings `pipeline` was built with.
#   settings          (function) a fresh tmp copy of the corpus and an empty tmp index folder (not built).
#   indexed_settings  (function) like `settings`, with the session's index copied in (current, no embedding).
#
# Every test also runs with LABCHAT_CORPUS / LABCHAT_INDEX pointing at its own tmp folders (autouse), so a
# `labchat` subprocess started without --corpus/--index can never touch the project's corpus/ or index/.
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def session_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("session")
    return Settings(corpus_dir=_copy_corpus(root / "corpus"), index_dir=root / "index")


@pytest.fixture(scope="session")
def pipeline(session_settings: Settings) -> Pipeline:
    """Builds the session index (the tmp index folder starts empty), then loads the model."""
    assert not session_settings.index_dir.resolve().is_relative_to(PROJECT_INDEX.resolve())
    return Pipeline(session_settings)


@pytest.fixture(scope="session")
def embedder(pipeline: Pipeline) -> Embedder:
    return pipeline.embedder


@pytest.fixture(scope="session")
def local_model(session_settings: Settings) -> Generator:
    """SmolLM2, loaded once: `pipeline` quotes by default, tests that generate hand it this model."""
    return Generator(session_settings)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """This test's own corpus (a copy of the project's) and index folder (empty)."""
    return Settings(corpus_dir=_copy_corpus(tmp_path / "corpus"), index_dir=tmp_path / "index")


@pytest.fixture
def indexed_settings(settings: Settings, session_settings: Settings, pipeline: Pipeline) -> Settings:
    """`settings` with a current index: the session's, built from byte-identical corpus files."""
    shutil.copytree(session_settings.index_dir, settings.index_dir)
    return settings


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LABCHAT_* variables point at this test's tmp folders (the same ones the `settings` fixture uses)."""
    monkeypatch.setenv("LABCHAT_CORPUS", str(tmp_path / "corpus"))
    monkeypatch.setenv("LABCHAT_INDEX", str(tmp_path / "index"))
    for name in ("LABCHAT_MODEL", "LABCHAT_HOST", "LABCHAT_PORT", "LABCHAT_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
