"""Known optimal frames: closed-form spherical codes and Grassmannian line packings.

Every construction returns a frame of shape (d, N) with unit-norm columns. They are registered in
:data:`KNOWN_FRAMES` (name -> :class:`KnownFrame`), which the CLI and the tests read; build one by
name with :func:`known_frame`.

Spherical codes (minimise the largest inner product): the regular simplex (N = d + 1) and the
orthoplex (N = 2d) are optimal by Rankin's bounds; the icosahedron is the optimal 12-point code in
R^3. Line packings (minimise the coherence): the orthonormal basis (N = d), and equiangular tight
frames (ETFs), which attain the Welch bound mu^2 >= (N - d) / (d (N - 1)) and are therefore
optimal: the simplex as lines, the six diagonals of the icosahedron, the Paley ETFs of N = q + 1
lines in R^{(q+1)/2} (q a prime power, q = 1 mod 4), the 16 lines in R^6 and the 28 lines in R^7
(which also meet Gerzon's bound N <= d (d + 1) / 2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from csuper._validation import check_int, check_memory

__all__ = [
    "KNOWN_FRAMES",
    "KnownFrame",
    "clebsch_lines",
    "gerzon_lines_28",
    "icosahedron_frame",
    "icosahedron_lines",
    "known_frame",
    "orthonormal_frame",
    "orthoplex_frame",
    "paley_etf",
    "simplex_frame",
]


def _helmert_basis(n: int) -> np.ndarray:
    """Orthonormal basis of the sum-zero hyperplane of R^n, as the rows of an (n-1, n) matrix."""
    H = np.zeros((n - 1, n))
    for k in range(1, n):
        H[k - 1, :k] = 1.0
        H[k - 1, k] = -float(k)
        H[k - 1] /= np.sqrt(k * (k + 1.0))
    return H


def _check_frame_memory(name: str, d: int, n_columns: int, copies: int) -> None:
    """Raise before building ``copies`` float64 arrays of shape (d, n_columns) beyond budget."""
    check_memory(
        8 * copies * d * n_columns,
        f"{name}(n_dims={d}) (a {d} x {n_columns} float64 frame)",
        "pass a smaller n_dims",
    )


def _unit_columns(W: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(W / np.linalg.norm(W, axis=0))


def _frame_from_gram(G: np.ndarray, rank: int) -> np.ndarray:
    """Unit-norm frame (rank, N) whose Gram matrix is the PSD rank-``rank`` matrix G."""
    vals, vecs = np.linalg.eigh(G)
    top = np.argsort(vals)[::-1][:rank]
    W = np.sqrt(np.clip(vals[top], 0.0, None))[:, None] * vecs[:, top].T
    return _unit_columns(W)


def simplex_frame(n_dims: int) -> np.ndarray:
    """The regular simplex: d + 1 unit vectors in R^d with all inner products -1/d.

    Parameters
    ----------
    n_dims : int
        d >= 1.

    Returns
    -------
    ndarray, shape (n_dims, n_dims + 1)

    Notes
    -----
    The centred standard basis e_i - 1/(d+1) spans the sum-zero hyperplane of R^{d+1}; written in
    its Helmert orthonormal basis and normalised, the vectors have Gram matrix
    ((d+1) I - J) / d. As a spherical code it is optimal (Rankin: N points have
    max <x_i, x_j> >= -1/(N-1)); as N = d + 1 lines it is an equiangular tight frame attaining the
    Welch bound 1/d.

    References
    ----------
    R. A. Rankin, "The closest packing of spherical caps in n dimensions", Proc. Glasgow Math.
    Assoc. 2 (1955) 139-144, doi:10.1017/S2040618500033219.

    Examples
    --------
    >>> W = simplex_frame(3)
    >>> print(np.round(W.T @ W, 4)[0])
    [ 1.     -0.3333 -0.3333 -0.3333]
    """
    d = check_int(n_dims, "n_dims", low=1)
    _check_frame_memory("simplex_frame", d, d + 1, 3)
    return _unit_columns(_helmert_basis(d + 1))


def orthoplex_frame(n_dims: int) -> np.ndarray:
    """The cross-polytope: the 2d unit vectors +-e_i of R^d.

    Returns
    -------
    ndarray, shape (n_dims, 2 n_dims)
        Columns e_1, -e_1, e_2, -e_2, ...

    Notes
    -----
    As a spherical code of 2d points it is optimal (Rankin: more than d + 1 points have
    max <x_i, x_j> >= 0). As lines it is degenerate (each line twice, coherence 1): the optimal
    d lines are the orthonormal basis (:func:`orthonormal_frame`).

    References
    ----------
    R. A. Rankin (1955), doi:10.1017/S2040618500033219.

    Examples
    --------
    >>> orthoplex_frame(2)
    array([[ 1., -1.,  0.,  0.],
           [ 0.,  0.,  1., -1.]])
    """
    d = check_int(n_dims, "n_dims", low=1)
    _check_frame_memory("orthoplex_frame", d, 2 * d, 1)
    W = np.zeros((d, 2 * d))
    W[np.arange(d), 2 * np.arange(d)] = 1.0
    W[np.arange(d), 2 * np.arange(d) + 1] = -1.0
    return W


def orthonormal_frame(n_dims: int) -> np.ndarray:
    """The standard basis of R^d: d lines with coherence 0 (trivially optimal).

    Parameters
    ----------
    n_dims : int
        d >= 1.

    Returns
    -------
    ndarray, shape (n_dims, n_dims)

    Examples
    --------
    >>> orthonormal_frame(2)
    array([[1., 0.],
           [0., 1.]])
    """
    d = check_int(n_dims, "n_dims", low=1)
    _check_frame_memory("orthonormal_frame", d, d, 1)
    return np.eye(d)


_PHI = (1.0 + np.sqrt(5.0)) / 2.0


def icosahedron_frame() -> np.ndarray:
    """The 12 vertices of the regular icosahedron: the optimal 12-point spherical code in R^3.

    Returns
    -------
    ndarray, shape (3, 12)
        The cyclic permutations of (0, +-1, +-phi), normalised (phi the golden ratio). Antipodal
        pairs are adjacent columns (2k, 2k + 1).

    Notes
    -----
    Neighbouring vertices have inner product 1/sqrt(5) (angle arctan(2) = 63.4349 degrees), the
    optimum of Tammes' problem for N = 12 (Fejes Toth 1943; Danzer 1986).

    References
    ----------
    L. Danzer, "Finite point-sets on S^2 with minimum distance as large as possible", Discrete
    Math. 60 (1986) 3-66, doi:10.1016/0012-365X(86)90002-6.

    Examples
    --------
    >>> W = icosahedron_frame()
    >>> G = W.T @ W
    >>> print(f"{G[~np.eye(12, dtype=bool)].max():.6f}")
    0.447214
    """
    cols = []
    for s1 in (1.0, -1.0):
        for s2 in (1.0, -1.0):
            base = np.array([0.0, s1, s2 * _PHI])
            for shift in range(3):
                cols.append(np.roll(base, shift))
    W = np.array(cols).T
    # order antipodal pairs next to each other: v, -v
    order = []
    used = set()
    for i in range(12):
        if i in used:
            continue
        j = int(np.argmin(np.linalg.norm(W + W[:, [i]], axis=0)))
        order += [i, j]
        used |= {i, j}
    return _unit_columns(W[:, order])


def icosahedron_lines() -> np.ndarray:
    """The 6 diagonals of the icosahedron: an equiangular tight frame of 6 lines in R^3.

    Returns
    -------
    ndarray, shape (3, 6)

    Notes
    -----
    One vertex of each antipodal pair of :func:`icosahedron_frame`. All pairs have
    |<x_i, x_j>| = 1/sqrt(5), the Welch bound sqrt((N - d) / (d (N - 1))) for N = 6, d = 3; six is
    the largest number of equiangular lines in R^3.

    References
    ----------
    P. W. H. Lemmens, J. J. Seidel, "Equiangular lines", J. Algebra 24 (1973) 494-512,
    doi:10.1016/0021-8693(73)90123-3.

    Examples
    --------
    >>> W = icosahedron_lines()
    >>> print(np.round(np.abs(W.T @ W), 6)[0])
    [1.       0.447214 0.447214 0.447214 0.447214 0.447214]
    """
    return np.ascontiguousarray(icosahedron_frame()[:, ::2])


def _prime_power(q: int) -> tuple[int, int] | None:
    for p in range(2, math.isqrt(q) + 2):
        if q % p == 0:
            k, r = 0, q
            while r % p == 0:
                r //= p
                k += 1
            return (p, k) if r == 1 else None
    return (q, 1) if q >= 2 else None


def _poly_rem(a: list[int], g: list[int], p: int) -> list[int]:
    """Remainder of the polynomial a modulo the monic g over GF(p) (coefficients, low degree
    first)."""
    deg = len(g) - 1
    r = list(a) + [0] * max(0, deg - len(a))
    for top in range(len(r) - 1, deg - 1, -1):
        c = r[top]
        if c:
            for t in range(deg + 1):
                r[top - deg + t] = (r[top - deg + t] - c * g[t]) % p
    return r[:deg]


def _poly_mulmod(a: list[int], b: list[int], f: list[int], p: int) -> list[int]:
    """Product of the polynomials a and b modulo the monic f over GF(p)."""
    prod = [0] * (len(a) + len(b) - 1)
    for i, ai in enumerate(a):
        for j, bj in enumerate(b):
            prod[i + j] = (prod[i + j] + ai * bj) % p
    return _poly_rem(prod, f, p)


def _irreducible(p: int, k: int) -> list[int]:
    """A monic irreducible polynomial of degree k over GF(p) (coefficients, low degree first).

    A reducible polynomial of degree k has a monic factor of degree at most k // 2.
    """
    import itertools

    def has_factor(f):
        return any(
            not any(_poly_rem(f, [*tail, 1], p))
            for deg in range(1, k // 2 + 1)
            for tail in itertools.product(range(p), repeat=deg)
        )

    for tail in itertools.product(range(p), repeat=k):
        f = [*tail, 1]
        if f[0] != 0 and not has_factor(f):
            return f
    raise AssertionError("no irreducible polynomial found")  # pragma: no cover


def _quadratic_character(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Elements of GF(q) as coefficient vectors (q, k) and chi(x) for each, x indexed 0..q-1."""
    pk = _prime_power(q)
    if pk is None:
        raise ValueError(f"q must be a prime power; got {q}.")
    p, k = pk
    digits = np.array([[(x // p**t) % p for t in range(k)] for x in range(q)], dtype=np.int64)
    if k == 1:
        squares = {(x * x) % p for x in range(1, p)}
    else:
        f = _irreducible(p, k)
        squares = set()
        for x in range(1, q):
            a = list(digits[x])
            sq = _poly_mulmod(a, a, f, p)
            squares.add(sum(c * p**t for t, c in enumerate(sq)))
    chi = np.array([0] + [1 if x in squares else -1 for x in range(1, q)], dtype=np.int64)
    return digits, chi


def paley_etf(q: int) -> np.ndarray:
    """Paley equiangular tight frame: q + 1 lines in R^{(q+1)/2} with coherence 1/sqrt(q).

    Parameters
    ----------
    q : int
        A prime power with q = 1 (mod 4): 5, 9, 13, 17, 25, 29, ...

    Returns
    -------
    ndarray, shape ((q + 1) // 2, q + 1)

    Raises
    ------
    ValueError
        If q is not a prime power congruent to 1 mod 4, or exceeds 2000.

    Notes
    -----
    The Paley conference matrix C of order q + 1 has C[0, a] = C[a, 0] = 1, C[0, 0] = 0 and
    C[a, b] = chi(a - b) on GF(q) (chi the quadratic character), is symmetric because
    chi(-1) = 1, and satisfies C^2 = q I. Hence G = I + C / sqrt(q) has eigenvalues 0 and 2, each
    with multiplicity (q + 1) / 2: it is the Gram matrix of q + 1 unit vectors in R^{(q+1)/2}
    with all |<x_i, x_j>| = 1/sqrt(q), the Welch bound. q = 5 gives the icosahedron's 6 lines.

    References
    ----------
    J. J. Seidel, "A survey of two-graphs" (1976); T. Strohmer, R. W. Heath, "Grassmannian frames
    with applications to coding and communication", ACHA 14 (2003), arXiv:math/0301135.

    Examples
    --------
    >>> W = paley_etf(9)
    >>> W.shape
    (5, 10)
    >>> G = np.abs(W.T @ W)
    >>> print(f"{G[~np.eye(10, dtype=bool)].max():.6f}")
    0.333333
    """
    q = check_int(q, "q", low=5)
    if q > 2000:  # before any arithmetic on q: factoring a huge q by trial division never ends
        raise ValueError(
            "q must be at most 2000 (the frame has q + 1 columns; allowed: prime powers "
            f"q = 1 mod 4 in [5, 2000]); got {q}."
        )
    pk = _prime_power(q)
    if pk is None or q % 4 != 1:
        raise ValueError(
            f"q must be a prime power congruent to 1 mod 4 (5, 9, 13, 17, 25, ...); got {q}."
        )
    p, _ = pk
    digits, chi = _quadratic_character(q)
    weights = p ** np.arange(digits.shape[1])
    diff = (digits[:, None, :] - digits[None, :, :]) % p
    Q = chi[diff @ weights].astype(float)
    C = np.zeros((q + 1, q + 1))
    C[0, 1:] = C[1:, 0] = 1.0
    C[1:, 1:] = Q
    return _frame_from_gram(np.eye(q + 1) + C / np.sqrt(q), (q + 1) // 2)


def clebsch_lines() -> np.ndarray:
    """16 equiangular lines in R^6 with coherence 1/3 (an equiangular tight frame).

    Returns
    -------
    ndarray, shape (6, 16)

    Notes
    -----
    The Clebsch graph (folded 5-cube: GF(2)^4, x ~ y when they differ in one or in all four
    coordinates) is strongly regular srg(16, 5, 0, 2) with adjacency eigenvalues 5, 1 (x10),
    -3 (x5). Its Seidel matrix S = J - I - 2A has eigenvalues 5 (x6) and -3 (x10), so
    G = I + S / 3 is PSD of rank 6 with unit diagonal and off-diagonal entries +-1/3: 16 lines in
    R^6 at the Welch bound sqrt((16 - 6) / (6 * 15)) = 1/3.

    References
    ----------
    P. W. H. Lemmens, J. J. Seidel, "Equiangular lines", J. Algebra 24 (1973) 494-512,
    doi:10.1016/0021-8693(73)90123-3.

    Examples
    --------
    >>> W = clebsch_lines()
    >>> G = np.abs(W.T @ W)
    >>> print(W.shape, f"{G[~np.eye(16, dtype=bool)].max():.6f}")
    (6, 16) 0.333333
    """
    v = np.array([[(x >> t) & 1 for t in range(4)] for x in range(16)])
    dist = (v[:, None, :] != v[None, :, :]).sum(-1)
    A = ((dist == 1) | (dist == 4)).astype(float)
    S = np.ones((16, 16)) - np.eye(16) - 2.0 * A
    return _frame_from_gram(np.eye(16) + S / 3.0, 6)


def gerzon_lines_28() -> np.ndarray:
    """28 equiangular lines in R^7 with coherence 1/3: Gerzon's bound d (d + 1) / 2 attained.

    Returns
    -------
    ndarray, shape (7, 28)

    Notes
    -----
    The 28 vectors of R^8 with two coordinates 3 and six coordinates -1 lie in the sum-zero
    hyperplane (a copy of R^7) and have squared norm 24; two of them sharing one position of a 3
    have inner product 8, disjoint ones -8, so |cos| = 1/3 for every pair. 28 = 7 * 8 / 2 is
    Gerzon's upper bound on equiangular lines in R^7, and 1/3 is the Welch bound
    sqrt((28 - 7) / (7 * 27)). They are written here in the Helmert orthonormal basis of the
    hyperplane.

    References
    ----------
    P. W. H. Lemmens, J. J. Seidel, "Equiangular lines", J. Algebra 24 (1973) 494-512,
    doi:10.1016/0021-8693(73)90123-3.

    Examples
    --------
    >>> W = gerzon_lines_28()
    >>> G = np.abs(W.T @ W)
    >>> off = G[~np.eye(28, dtype=bool)]
    >>> print(W.shape, f"{off.min():.6f}", f"{off.max():.6f}")
    (7, 28) 0.333333 0.333333
    """
    cols = []
    for a in range(8):
        for b in range(a + 1, 8):
            v = -np.ones(8)
            v[[a, b]] = 3.0
            cols.append(v)
    return _unit_columns(_helmert_basis(8) @ np.array(cols).T)


@dataclass(frozen=True)
class KnownFrame:
    """A registered construction.

    Attributes
    ----------
    build : callable
        ``build(**params)`` returns the frame, shape (n_dims, n_features).
    kind : {"lines", "codes"}
        The problem it solves optimally (see :data:`csuper.geometry.packings.PACKING_KINDS`).
    objective : callable
        ``objective(**params)``: the closed-form optimal value (coherence for lines, largest
        inner product for codes).
    shape : callable
        ``shape(**params)`` -> (n_dims, n_features).
    equiangular : bool
        All pairs have the same |inner product| (for lines: an ETF at the Welch bound).
    default_params : dict
        Parameters used when none are given.
    description : str
        One line, with the optimality argument.
    """

    build: Callable[..., np.ndarray]
    kind: str
    objective: Callable[..., float]
    shape: Callable[..., tuple[int, int]]
    equiangular: bool
    default_params: dict = field(default_factory=dict)
    description: str = ""


#: Registry of known optimal frames (name -> :class:`KnownFrame`); the CLI and tests read it.
KNOWN_FRAMES: dict[str, KnownFrame] = {
    "simplex": KnownFrame(
        simplex_frame,
        "codes",
        lambda n_dims: -1.0 / n_dims,
        lambda n_dims: (n_dims, n_dims + 1),
        True,
        {"n_dims": 3},
        "d + 1 points, inner products -1/d: optimal code (Rankin); as lines an ETF (Welch 1/d)",
    ),
    "orthoplex": KnownFrame(
        orthoplex_frame,
        "codes",
        lambda n_dims: 0.0,
        lambda n_dims: (n_dims, 2 * n_dims),
        False,
        {"n_dims": 3},
        "2d points +-e_i, largest inner product 0: optimal code for N = 2d (Rankin)",
    ),
    "orthonormal": KnownFrame(
        orthonormal_frame,
        "lines",
        lambda n_dims: 0.0,
        lambda n_dims: (n_dims, n_dims),
        True,
        {"n_dims": 3},
        "d orthogonal lines, coherence 0",
    ),
    "icosahedron": KnownFrame(
        icosahedron_frame,
        "codes",
        lambda: 1.0 / np.sqrt(5.0),
        lambda: (3, 12),
        False,
        {},
        "12 vertices of the icosahedron: optimal Tammes code, angle 63.4349 degrees",
    ),
    "icosahedron_lines": KnownFrame(
        icosahedron_lines,
        "lines",
        lambda: 1.0 / np.sqrt(5.0),
        lambda: (3, 6),
        True,
        {},
        "6 diagonals of the icosahedron: ETF in R^3, coherence 1/sqrt(5)",
    ),
    "paley": KnownFrame(
        paley_etf,
        "lines",
        lambda q: 1.0 / np.sqrt(q),
        lambda q: ((q + 1) // 2, q + 1),
        True,
        {"q": 9},
        "Paley ETF: q + 1 lines in R^{(q+1)/2}, coherence 1/sqrt(q) (q = 1 mod 4)",
    ),
    "clebsch": KnownFrame(
        clebsch_lines,
        "lines",
        lambda: 1.0 / 3.0,
        lambda: (6, 16),
        True,
        {},
        "16 equiangular lines in R^6 from the Clebsch graph, coherence 1/3 (ETF)",
    ),
    "gerzon28": KnownFrame(
        gerzon_lines_28,
        "lines",
        lambda: 1.0 / 3.0,
        lambda: (7, 28),
        True,
        {},
        "28 equiangular lines in R^7 (Gerzon bound attained), coherence 1/3 (ETF)",
    ),
}


def known_frame(name: str, **params) -> np.ndarray:
    """Build the registered frame ``name`` (see :data:`KNOWN_FRAMES`).

    Parameters
    ----------
    name : str
        A key of :data:`KNOWN_FRAMES`.
    **params
        The construction's parameters (``n_dims`` for simplex/orthoplex/orthonormal, ``q`` for
        paley); missing ones take the registry's defaults.

    Returns
    -------
    ndarray, shape (n_dims, n_features)
        Unit-norm columns.

    Examples
    --------
    >>> known_frame("paley", q=13).shape
    (7, 14)
    >>> sorted(KNOWN_FRAMES)[:3]
    ['clebsch', 'gerzon28', 'icosahedron']
    """
    if not isinstance(name, str) or name not in KNOWN_FRAMES:
        raise ValueError(f"name must be one of {sorted(KNOWN_FRAMES)}; got {name!r}.")
    entry = KNOWN_FRAMES[name]
    unknown = set(params) - set(entry.default_params)
    if unknown:
        raise TypeError(
            f"known_frame({name!r}) takes the parameters {sorted(entry.default_params)}; "
            f"got unexpected {sorted(unknown)}."
        )
    return entry.build(**{**entry.default_params, **params})
