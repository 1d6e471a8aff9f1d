"""Shared test configuration.

Hypothesis runs derandomized (its examples are a function of the test, not of a global seed) so
that CI is reproducible; no test seeds numpy's global state. ``deadline=None`` because the first
call of a numba kernel includes its compilation.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "csuper",
    derandomize=True,
    deadline=None,
    max_examples=50,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("csuper")
