"""XGBoost's split search on cumulative (g, h) histograms, shared by the boosting methods
(vertical SecureBoost, horizontal FedBoost): whoever holds a histogram in the clear scores it
the same way."""

from __future__ import annotations

import numpy as np


def best_split(gl: np.ndarray, hl: np.ndarray, g: float, h: float, reg_lambda: float,
               min_child_weight: float) -> tuple[int, int, float]:
    """(feature, bin, gain) of the best split "x <= bin edge" over cumulative left sums gl,
    hl (features x bins) of a node with totals g, h; gain is -inf when no split leaves
    `min_child_weight` of hessian on both sides."""
    gr, hr = g - gl, h - hl
    gain = gl**2 / (hl + reg_lambda) + gr**2 / (hr + reg_lambda) - g**2 / (h + reg_lambda)
    gain = np.where((hl >= min_child_weight) & (hr >= min_child_weight), gain, -np.inf)
    j, b = np.unravel_index(int(np.argmax(gain)), gain.shape)
    return int(j), int(b), float(gain[j, b])
