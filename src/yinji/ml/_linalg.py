"""Small dense linear algebra on shares for second-order training (SS-LR's Newton steps).

Newton-Schulz iteration for a symmetric positive definite d x d matrix A (d ~ 10-100):
X_{k+1} = X_k (2I - A X_k). With X_0 = I / trace(A) (or any X_0 whose product with A has
eigenvalues in (0, 1]), the eigenvalues of X_k A are 1 - (1 - mu)^(2^k) for each eigenvalue mu
of X_0 A: they approach 1 from below and never overshoot, so a truncated iteration is a
damped inverse (a safe preconditioner), never a wrong-signed one. Two (d x d) products with
truncation per iteration: 6 rounds, O(d^3) local work, no comparisons, no reciprocals.

Adversary model and leakage: those of yinji.mpc (semi-honest, honest majority among the
three parties); nothing is opened here -- every party learns only d and the public
iteration count; inputs and results stay secret-shared.
"""

from __future__ import annotations

import math

import numpy as np

from yinji.mpc import SharedTensor


def newton_schulz_inverse(a: SharedTensor, x0: SharedTensor, iterations: int) -> SharedTensor:
    """`iterations` Newton-Schulz steps towards a^-1 from x0 (see the module docstring)."""
    two = 2.0 * np.eye(a.shape[0])
    x = x0
    for _ in range(iterations):
        x = x @ (two - a @ x)
    return x


def iterations_for(condition: float, slack: int = 4) -> int:
    """Steps that bring the smallest eigenvalue mu = 1/condition of X_0 A to 1 within
    e^(-2^slack): (1 - mu)^(2^k) <= exp(-2^k mu)."""
    return max(1, math.ceil(math.log2(max(condition, 1.0))) + slack)
