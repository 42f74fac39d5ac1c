"""Fitted models over named features: sentence ranking, passage ranking and abstention.

Each model is a JSON file next to this module, written by ``python -m eval.fit`` from
the tuning split of the gold set: the feature names, their standardisation, the
logistic-regression weights, a decision threshold where one applies, and the
figures of the fit on the tuning and the test split. Nothing here learns at run time.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

MODELS_DIR = Path(__file__).resolve().parent
#: the fine-tuned transformer layers of e5-small (``python -m eval.train_reader``) and their card
READER_LAYERS = MODELS_DIR / "reader_layers.npz"
READER_CARD = MODELS_DIR / "reader.json"


@cache
def reader_tag() -> str | None:
    """The shipped fine-tuned layers' tag (a hash of the file, from their card), or None."""
    if not (READER_LAYERS.is_file() and READER_CARD.is_file()):
        return None
    return json.loads(READER_CARD.read_text(encoding="utf-8")).get("tag") or None


@dataclass(frozen=True)
class LinearModel:
    """Logistic regression over named, standardised features."""

    name: str
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float = 0.5
    params: dict = field(default_factory=dict)  # other fitted constants (e.g. how many sentences to add)

    def logit(self, x: np.ndarray) -> np.ndarray:
        return ((np.atleast_2d(x) - self.mean) / self.scale) @ self.coef + self.intercept

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(x)))

    def weights(self) -> dict[str, float]:
        """The weight per feature (on standardised features): what the model looks at."""
        return {f: round(float(w), 4) for f, w in zip(self.features, self.coef)}

    def to_json(self, extra: dict | None = None) -> dict:
        return {
            "name": self.name,
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "threshold": self.threshold,
            "params": self.params,
            **(extra or {}),
        }

    @classmethod
    def from_json(cls, d: dict) -> LinearModel:
        return cls(
            d["name"],
            tuple(d["features"]),
            np.asarray(d["mean"], dtype=np.float64),
            np.asarray(d["scale"], dtype=np.float64),
            np.asarray(d["coef"], dtype=np.float64),
            float(d["intercept"]),
            float(d.get("threshold", 0.5)),
            dict(d.get("params") or {}),
        )


def model_path(name: str) -> Path:
    return MODELS_DIR / f"{name}.json"


@cache
def load_model(name: str) -> LinearModel:
    """The fitted model ``name`` (``kb/models/<name>.json``)."""
    path = model_path(name)
    try:
        return LinearModel.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise RuntimeError(f"het model {path} ontbreekt; maak het met: python -m eval.fit") from None


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
