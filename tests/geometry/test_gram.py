"""csuper.geometry.gram_matrix: the crash-free Gram product every Gram-like product in csuper goes
through (gemm on distinct buffers, never BLAS syrk), and the package-wide rule that nothing else
forms ``W.T @ W``."""

from __future__ import annotations

import ast
import pathlib
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csuper._validation import MemoryBudgetError
from csuper.geometry import GRAM_PANEL, gram_matrix
from csuper.geometry import gram as gmod
from csuper.testing import frames

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "csuper"


@given(W=frames(n_dims=(1, 6), n_features=(1, 12)), data=st.data())
def test_equals_the_definition(W, data):
    """G[i, j] = <w_i, w_j> (einsum, no BLAS: an independent route); a second frame likewise."""
    G = gram_matrix(W)
    np.testing.assert_allclose(G, np.einsum("ki,kj->ij", W, W), rtol=1e-13, atol=1e-15)
    V = data.draw(frames(n_dims=W.shape[0], n_features=(1, 5)))
    np.testing.assert_allclose(
        gram_matrix(W, V), np.einsum("ki,kj->ij", W, V), rtol=1e-13, atol=1e-15
    )


@pytest.mark.parametrize(
    "da, db, expected",
    [
        (np.float32, None, np.float32),
        (np.float64, None, np.float64),
        (np.float32, np.float64, np.float64),
        (np.int64, None, np.float64),
    ],
)
def test_dtypes(da, db, expected):
    W = np.arange(12).reshape(3, 4).astype(da)
    V = None if db is None else np.ones((3, 2), dtype=db)
    G = gram_matrix(W, V)
    assert G.dtype == expected
    ref = W.astype(np.float64).T @ (W if V is None else V).astype(np.float64).copy()
    np.testing.assert_allclose(G, ref, rtol=1e-6)


def test_panels_cover_wide_frames(monkeypatch):
    """Results formed panel by panel equal the one-shot product (panels of 7 rows here)."""
    monkeypatch.setattr(gmod, "GRAM_PANEL", 7)
    W = np.random.default_rng(0).standard_normal((5, 30))
    G = gram_matrix(W)  # upper panels multiplied, lower triangle mirrored: exactly symmetric
    np.testing.assert_allclose(G, np.einsum("ki,kj->ij", W, W), rtol=1e-13)
    np.testing.assert_array_equal(G, G.T)
    V = np.random.default_rng(1).standard_normal((5, 11))
    np.testing.assert_allclose(gram_matrix(W, V), np.einsum("ki,kj->ij", W, V), rtol=1e-13)
    assert GRAM_PANEL == 512  # the module constant, untouched outside the patch


def test_never_one_buffer(monkeypatch):
    """Every BLAS call gets two operands that do not share memory, whatever the dtype."""
    seen = []
    real = gmod._gemm

    def spy(At, B, out):
        seen.append(np.shares_memory(At, B))
        return real(At, B, out)

    monkeypatch.setattr(gmod, "_gemm", spy)
    for dtype in (np.float32, np.float64):
        W = np.random.default_rng(1).standard_normal((4, 9)).astype(dtype)
        gram_matrix(W)
        gram_matrix(W, W)
        gram_matrix(W, W[:, 2:5])
        gmod.gram_product(W, W)
    assert seen and not any(seen)


def test_errors_name_the_parameter(monkeypatch):
    with pytest.raises(ValueError, match="A must be a 2-D array"):
        gram_matrix(np.ones(3))
    with pytest.raises(ValueError, match=r"B must have as many rows as A \(3"):
        gram_matrix(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="B must contain only finite values"):
        gram_matrix(np.ones((3, 2)), np.full((3, 2), np.nan))
    with pytest.raises(TypeError, match="A must be an array of real numbers"):
        gram_matrix([["a"]])
    monkeypatch.setenv("CSUPER_MEMORY_BUDGET", "1MiB")
    with pytest.raises(
        MemoryBudgetError, match=r"gram_matrix of 60000 x 60000 columns .* 26\.8 GiB"
    ):
        gram_matrix(np.ones((1, 60000)))  # the input is 0.5 MB; the result would be 26.8 GiB


# --- nothing in the package forms a Gram product any other way --------------------------------


def _gram_like(node: ast.AST) -> bool:
    """``X.T @ X``, ``X @ X.T``, ``np.dot(X.T, X)``, ``np.dot(X, X.T)`` (or with a copy of X on
    one side): one array times its own transpose. numpy sends these to BLAS syrk; the copy
    avoids that but is a second way of doing what gram_matrix does (CONTRIBUTING: one way)."""

    def name(n):
        # a copy of the array (``W.copy()``, ``np.copy(W)``) is still the same array
        if isinstance(n, ast.Call) and not n.keywords:
            func = n.func
            if isinstance(func, ast.Attribute) and func.attr == "copy" and not n.args:
                return name(func.value)
            if isinstance(func, ast.Attribute) and func.attr == "copy" and len(n.args) == 1:
                return name(n.args[0])
        return ast.unparse(n)

    def transposed(n):
        return isinstance(n, ast.Attribute) and n.attr == "T"

    pairs = []
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        pairs.append((node.left, node.right))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("dot", "matmul")
        and len(node.args) == 2
    ):
        pairs.append((node.args[0], node.args[1]))
    for a, b in pairs:
        if transposed(a) and name(a.value) == name(b):
            return True
        if transposed(b) and name(b.value) == name(a):
            return True
    return False


def test_no_gram_product_outside_the_helper():
    """The rule of issue 17 item 7, checked on the source: every product of an array with its own
    transpose goes through csuper.geometry.gram (doctest examples of tiny frames excepted)."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if _gram_like(node):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not offenders, f"Gram products outside csuper.geometry.gram_matrix: {offenders}"


def test_the_source_check_sees_gram_products():
    for text in (
        "W.T @ W",
        "W @ W.T",
        "np.dot(W.T, W)",
        "np.dot(U, U.T)",
        "a.b.T @ a.b",
        "W.T @ W.copy()",
        "np.copy(W).T @ W",
    ):
        assert _gram_like(ast.parse(text).body[0].value), text
    for text in ("W.T @ V", "A @ B.T", "np.dot(W.T, y)", "W.T @ V.copy()"):
        assert not _gram_like(ast.parse(text).body[0].value), text


@pytest.mark.slow
def test_wide_float32_gram_does_not_crash_with_two_blas_threads(run_with_two_blas_threads):
    """The float32 case of the crash (issue 17 item 7), in a subprocess with a memory cap: a wide
    float32 Gram matrix (19,500 x 19,500, 1.5 GB) through gram_matrix with 2 OpenBLAS threads
    exits 0 and agrees with an einsum on a corner."""
    script = textwrap.dedent(
        """
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
        import numpy as np
        from threadpoolctl import threadpool_limits
        from csuper.geometry import gram_matrix
        W = np.random.default_rng(0).standard_normal((512, 19500)).astype(np.float32)
        with threadpool_limits(limits=2, user_api="blas"):
            G = gram_matrix(W)
        corner = np.einsum("ki,kj->ij", W[:, :50].astype(float), W[:, -50:].astype(float))
        assert np.allclose(G[:50, -50:], corner, rtol=1e-4, atol=1e-2)
        print("ok")
        """
    )
    run_with_two_blas_threads(script)
