"""The fitted numbers labchat decides with, read from `fitted.json` (written by `scripts/fit.py`).

Two logistic regressions fitted on `train.jsonl` and `train_conversations.jsonl`: one scores a candidate
sentence as the evidence of a question, one scores whether the documents answer the question at all;
`threshold` is the probability under which labchat abstains, chosen on cross-validated predictions. They
are applied here with numpy (a dot product), so answering needs neither scikit-learn nor a pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FITTED_FILE = Path(__file__).with_name("fitted.json")


@dataclass(frozen=True)
class Linear:
    """Standardise, then a logistic regression: `predict` gives probabilities."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_dict(cls, data: dict) -> Linear:
        return cls(tuple(data["features"]), np.array(data["mean"]), np.array(data["scale"]),
                   np.array(data["coef"]), float(data["intercept"]))

    def to_dict(self) -> dict:
        return {"features": list(self.features), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "intercept": round(self.intercept, 6)}

    def predict(self, rows: np.ndarray) -> np.ndarray:
        z = ((rows - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class FittedModels:
    sentence_model: Linear
    answerable_model: Linear
    threshold: float

    @classmethod
    def load(cls, path: Path = FITTED_FILE) -> FittedModels:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(Linear.from_dict(data["sentence"]), Linear.from_dict(data["answerable"]),
                   float(data["threshold"]))

    def sentence(self, rows: np.ndarray) -> np.ndarray:
        return self.sentence_model.predict(rows)

    def answerable(self, rows: np.ndarray) -> np.ndarray:
        return self.answerable_model.predict(rows)
