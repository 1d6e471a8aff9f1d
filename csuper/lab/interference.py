"""Interference between two unit features in closed form (the lab's second view).

Two features with unit directions w_1, w_2 at an angle theta share a hidden space; feature 2
fires alone. The read-out of feature 1 of a ReLU-output toy model (x_hat = ReLU(W^T h + b)) sees
the overlap of the two directions as a spurious input. The page's JavaScript evaluates the same
formulas; the browser tests compare what it shows with :func:`two_feature_interference`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from csuper._validation import check_real

__all__ = ["TwoFeatureInterference", "two_feature_interference", "expected_relu_cost"]


@dataclass(frozen=True)
class TwoFeatureInterference:
    """What feature 2 (firing alone) does to the read-out of feature 1.

    Attributes
    ----------
    angle_deg, bias : float
        The angle between the unit directions w_1 and w_2 (degrees) and feature 1's output bias b.
    overlap : float
        <w_1, w_2> = cos(theta).
    squared_interference : float
        <w_1, w_2>^2, what a linear read-out without bias pays on feature 1 when x_2 = 1.
    preactivation : float
        cos(theta) + b, feature 1's read-out before the ReLU when x = e_2.
    spurious_activation : float
        ReLU(cos(theta) + b), the false output that passes the ReLU.
    relu_error : float
        spurious_activation^2, the squared error the ReLU read-out pays on feature 1.
    linear_error : float
        (cos(theta) + b)^2, the squared error of a linear read-out with the same bias.
    filtered : float
        linear_error - relu_error = min(0, cos(theta) + b)^2: negative interference that the ReLU
        removes for free.
    expected_relu_cost, expected_linear_cost : float
        E[ReLU(cos(theta) u + b)^2] and E[(cos(theta) u + b)^2] for a magnitude u ~ Uniform[0, 1]
        of feature 2 (the toy model's law of an active feature).
    """

    angle_deg: float
    bias: float
    overlap: float
    squared_interference: float
    preactivation: float
    spurious_activation: float
    relu_error: float
    linear_error: float
    filtered: float
    expected_relu_cost: float
    expected_linear_cost: float


def expected_relu_cost(overlap: float, bias: float = 0.0) -> float:
    r"""E[ReLU(c u + b)^2] for u ~ Uniform[0, 1], in closed form.

    Parameters
    ----------
    overlap : float
        c = <w_1, w_2> in [-1, 1].
    bias : float
        b, a real number.

    Returns
    -------
    float

    Notes
    -----
    z(u) = c u + b is affine, so z > 0 on one interval [u_lo, u_hi] of [0, 1] (possibly empty)
    and there

    .. math:: \int_{u_{lo}}^{u_{hi}} z(u)^2\,du = \frac{u_{hi} - u_{lo}}{3}
              \left(z_{lo}^2 + z_{lo} z_{hi} + z_{hi}^2\right),

    Simpson's rule, exact for a quadratic; this form has no cancellation as c -> 0, unlike
    ((c + b)^3 - b^3) / (3 c).

    Examples
    --------
    With b = 0 only positive overlap costs anything: c^2 / 3 for c > 0, and 0 for c < 0.

    >>> print(round(expected_relu_cost(0.5), 6), expected_relu_cost(-0.5))
    0.083333 0.0
    """
    c = check_real(overlap, "overlap", low=-1.0, high=1.0)
    b = check_real(bias, "bias")
    if c == 0.0:
        lo, hi = (0.0, 1.0) if b > 0 else (0.0, 0.0)
    else:
        root = -b / c  # z(root) = 0
        lo, hi = (max(0.0, root), 1.0) if c > 0 else (0.0, min(1.0, root))
    if hi <= lo:
        return 0.0
    z_lo, z_hi = max(c * lo + b, 0.0), max(c * hi + b, 0.0)
    return (hi - lo) * (z_lo * z_lo + z_lo * z_hi + z_hi * z_hi) / 3.0


def two_feature_interference(angle_deg: float, bias: float = 0.0) -> TwoFeatureInterference:
    """Overlap, squared interference and the spurious activation passing the ReLU.

    Parameters
    ----------
    angle_deg : float
        Angle theta between the unit feature directions w_1 and w_2, in degrees, in [0, 180].
    bias : float
        Output bias b of feature 1, in [-2, 2].

    Returns
    -------
    TwoFeatureInterference

    Notes
    -----
    With h = W x and x = e_2 (feature 2 on with value 1, feature 1 off), feature 1's read-out is
    w_1^T h + b = cos(theta) + b. A linear read-out pays (cos(theta) + b)^2; the ReLU read-out
    pays ReLU(cos(theta) + b)^2, so negative interference (cos(theta) + b < 0) costs nothing.
    This is why a ReLU-output toy model can place features at obtuse angles (antipodal pairs,
    pentagons) and tolerate superposition that a linear model cannot (Elhage et al. 2022,
    section "Superposition as a phase change").

    References
    ----------
    N. Elhage et al., "Toy Models of Superposition", Transformer Circuits Thread 2022,
    arXiv:2209.10652.

    Examples
    --------
    >>> r = two_feature_interference(60.0)
    >>> print(f"{r.overlap:.6f} {r.squared_interference:.6f} {r.spurious_activation:.6f}")
    0.500000 0.250000 0.500000
    >>> r = two_feature_interference(120.0)  # negative interference: the ReLU removes it
    >>> print(f"{r.overlap:.6f} {r.spurious_activation:.6f} {r.filtered:.6f}")
    -0.500000 0.000000 0.250000
    """
    theta = check_real(angle_deg, "angle_deg", low=0.0, high=180.0)
    b = check_real(bias, "bias", low=-2.0, high=2.0)
    c = math.cos(math.radians(theta))
    z = c + b
    a = max(z, 0.0)
    return TwoFeatureInterference(
        angle_deg=theta,
        bias=b,
        overlap=c,
        squared_interference=c * c,
        preactivation=z,
        spurious_activation=a,
        relu_error=a * a,
        linear_error=z * z,
        filtered=min(z, 0.0) ** 2,
        expected_relu_cost=expected_relu_cost(max(-1.0, min(1.0, c)), b),
        expected_linear_cost=c * c / 3.0 + c * b + b * b,
    )
