"""Sparse recovery and phase transitions: cvxpy formulations, a fast batched solver, certificates,
statistical-dimension theory and phase-transition experiments."""

from csuper.recovery._common import MATRIX_FAMILIES, BatchRecoveryResult, RecoveryResult
from csuper.recovery.batch import batch_basis_pursuit
from csuper.recovery.certificate import Certificate, certify_basis_pursuit
from csuper.recovery.convex import FORMULATIONS, Formulation, L1Problem, solve_l1
from csuper.recovery.theory import (
    crpw_bound,
    l1_scaling,
    statistical_dimension,
    statistical_dimension_curve,
    transition_width,
    weak_threshold,
    weak_threshold_asymptotic,
)

__all__ = [
    "MATRIX_FAMILIES",
    "RecoveryResult",
    "BatchRecoveryResult",
    "batch_basis_pursuit",
    "Certificate",
    "certify_basis_pursuit",
    "FORMULATIONS",
    "Formulation",
    "L1Problem",
    "solve_l1",
    "statistical_dimension",
    "statistical_dimension_curve",
    "transition_width",
    "weak_threshold",
    "weak_threshold_asymptotic",
    "l1_scaling",
    "crpw_bound",
]

from csuper.recovery.convex import highs_basis_pursuit
from csuper.recovery.experiment import (
    EXPERIMENT_SOLVERS,
    SIGNAL_LAWS,
    PhaseTransitionResult,
    draw_sparse,
    phase_transition,
)
from csuper.recovery.greedy import iht, omp

__all__ += [
    "highs_basis_pursuit",
    "EXPERIMENT_SOLVERS",
    "SIGNAL_LAWS",
    "PhaseTransitionResult",
    "draw_sparse",
    "phase_transition",
    "omp",
    "iht",
]
