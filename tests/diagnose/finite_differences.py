"""Central finite differences shared by the gradient tests of csuper.diagnose."""

import numpy as np
import pytest


def check_gradient(f, arrays, grads, eps=1e-6, rel=1e-5, abs_tol=1e-8):
    """Compare grads with central differences of the scalar f() over every entry of arrays
    (perturbed in place and restored)."""
    for A, G in zip(arrays, grads):
        for idx in np.ndindex(A.shape):
            old = A[idx]
            A[idx] = old + eps
            up = f()
            A[idx] = old - eps
            down = f()
            A[idx] = old
            assert G[idx] == pytest.approx((up - down) / (2 * eps), rel=rel, abs=abs_tol), idx
