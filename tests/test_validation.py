"""The shared validators: every public function's errors go through them."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csuper._validation import (
    check_array,
    check_frame,
    check_input_file,
    check_int,
    check_output_file,
    check_output_folder,
    check_path,
    check_real,
    check_rng,
    format_interval,
)


def test_format_interval():
    assert format_interval(1, 5, True, False) == "[1, 5)"
    assert format_interval(None, 0.5, True, True) == "(-inf, 0.5]"
    assert format_interval(0, None) == "[0, inf)"


@pytest.mark.parametrize("bad", [1.0, "3", None, True, np.bool_(True), 2.5])
def test_check_int_rejects_non_integers(bad):
    with pytest.raises(TypeError, match="n_dims must be an integer"):
        check_int(bad, "n_dims", low=1)


def test_check_int_range_message_names_parameter_domain_and_value():
    with pytest.raises(ValueError, match=r"^n_dims must be an integer in \[1, 10\); got 10\.$"):
        check_int(10, "n_dims", low=1, high=10, high_inclusive=False)
    assert check_int(np.int64(3), "k", low=0) == 3
    assert type(check_int(np.int32(3), "k")) is int


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_check_real_rejects_non_finite(bad):
    with pytest.raises(ValueError, match="eps must be a real number"):
        check_real(bad, "eps")


def test_check_real_open_interval():
    for bad in (0.0, 1.0):
        with pytest.raises(ValueError, match=r"eps must be a real number in \(0, 1\); got"):
            check_real(bad, "eps", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    with pytest.raises(TypeError):
        check_real("0.5", "eps")
    assert check_real(np.float32(0.5), "eps") == 0.5


def test_check_array_dtype_shape_and_finiteness():
    assert check_array([[1, 2]], "A").dtype == np.float64
    assert check_array(np.ones(3, np.float32), "x").dtype == np.float32
    assert check_array(np.ones(3, np.float32), "x", dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="A must be a 2-D array; got 1-D"):
        check_array([1.0, 2.0], "A", ndim=2)
    with pytest.raises(ValueError, match=r"y must have shape \(3\); got \(2,\)"):
        check_array([1.0, 2.0], "y", shape=(3,))
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        check_array([1.0, np.nan], "y")
    with pytest.raises(ValueError, match="nonnegative"):
        check_array([1.0, -1.0], "x", nonnegative=True)
    with pytest.raises(TypeError, match="real numbers"):
        check_array(["a"], "x")
    with pytest.raises(TypeError, match="complex"):
        check_array([1j], "x")
    with pytest.raises(ValueError, match="at least 1 element"):
        check_array(np.zeros((0, 3)), "x")


def test_check_array_copy_is_independent():
    a = np.ones(3)
    b = check_array(a, "a", copy=True)
    b[0] = 5.0
    assert a[0] == 1.0
    assert check_array(a, "a") is a  # already valid: no copy


def test_check_frame():
    with pytest.raises(ValueError, match="zero column"):
        check_frame(np.array([[1.0, 0.0], [0.0, 0.0]]))
    assert check_frame(np.array([[1.0, 0.0], [0.0, 0.0]]), allow_zero_columns=True).shape == (2, 2)
    with pytest.raises(ValueError, match="at least 2 column"):
        check_frame(np.ones((3, 1)), min_columns=2)


@given(st.integers(0, 2**63 - 1))
def test_check_rng_same_seed_same_stream(seed):
    a = check_rng(seed).standard_normal(4)
    b = check_rng(seed).standard_normal(4)
    assert np.array_equal(a, b)


def test_check_rng_passes_generators_through_and_rejects_legacy():
    g = np.random.default_rng(1)
    assert check_rng(g) is g
    with pytest.raises(TypeError, match="RandomState"):
        check_rng(np.random.RandomState(0))
    with pytest.raises(TypeError):
        check_rng(1.5)
    with pytest.raises(ValueError, match=">= 0"):
        check_rng(-1)


def test_check_array_value_range():
    np.testing.assert_array_equal(check_array([0.0, 0.5, 1.0], "p", low=0, high=1), [0.0, 0.5, 1.0])
    with pytest.raises(ValueError, match=r"^p must lie in \[0, 1\]; got -0\.1\.$"):
        check_array([0.5, -0.1], "p", low=0, high=1)
    with pytest.raises(ValueError, match=r"^p must lie in \(-inf, 2\]; got 3\.0\.$"):
        check_array([[1.0, 3.0]], "p", high=2)


# ---------------------------------------------------------------------------------------------
# Messages name the parameter for every kind of wrong input (no raw numpy or Python text)


def test_check_real_huge_integers_name_the_parameter():
    with pytest.raises(ValueError, match=r"^eps must be a real number .* 401 digits"):
        check_real(10**400, "eps")
    assert check_real(2**70, "scale") == float(2**70)  # large but representable


@pytest.mark.parametrize(
    "value, exc, message",
    [
        (None, TypeError, r"^W must be an array of real numbers; got None\.$"),
        ("abc", TypeError, "got str 'abc'"),
        (b"ab", TypeError, "got bytes"),
        ({"a": 1}, TypeError, "got dict"),
        ({1, 2}, TypeError, "got set"),
        ([None, 1.0], TypeError, "got an entry None of type NoneType"),
        ([2**70, 1], TypeError, "integer entry too large for 64 bits"),
        ([object()], TypeError, "got an entry <object"),
        (["a", "b"], TypeError, r"got strings \(dtype <U1\)"),
        (np.array(["2020"], dtype="datetime64[Y]"), TypeError, "got dates"),
        ([[1.0, 2.0], [3.0]], ValueError, "every row the same length"),
        ([1j], TypeError, "W must be real; got complex"),
        (True, TypeError, "W must be a real number or an array of them; got True"),
        (np.bool_(False), TypeError, "got np.False_|got False"),
    ],
)
def test_check_array_names_the_parameter_for_every_wrong_input(value, exc, message):
    with pytest.raises(exc, match=message) as err:
        check_array(value, "W")
    assert str(err.value).startswith("W ")
    assert "inhomogeneous" not in str(err.value) and "dtype object" not in str(err.value)


def test_check_array_takes_bool_arrays_as_zero_one():
    assert check_array(np.array([True, False]), "mask").tolist() == [1.0, 0.0]


# ---------------------------------------------------------------------------------------------
# Paths


def test_check_path_refuses_file_descriptors_and_bytes():
    assert str(check_path("a/b.npz", "path")) == "a/b.npz"
    from pathlib import Path

    assert check_path(Path("x"), "path") == Path("x")
    for bad in (3, b"x", 1.5, None, ["x"]):
        with pytest.raises(TypeError, match=r"^output must be a path \(str or os\.PathLike\)"):
            check_path(bad, "output")
    for bad in ("", "a\0b"):
        with pytest.raises(ValueError, match="output must be a non-empty path"):
            check_path(bad, "output")


def test_check_output_file(tmp_path):
    assert check_output_file(tmp_path / "new.png", "--plot") == tmp_path / "new.png"
    (tmp_path / "old.png").write_text("x")
    assert check_output_file(tmp_path / "old.png", "--plot").name == "old.png"  # replaced later
    with pytest.raises(ValueError, match=r"^--plot: .* is a folder; give the name of a file\.$"):
        check_output_file(tmp_path, "--plot")
    with pytest.raises(ValueError, match="does not exist; create it first"):
        check_output_file(tmp_path / "a" / "b" / "c.png", "--plot")
    with pytest.raises(ValueError, match=r"cannot be created: .*old\.png' is a file"):
        check_output_file(tmp_path / "old.png" / "sub" / "c.png", "--plot")
    assert not (tmp_path / "a").exists()  # checking creates nothing


def test_check_output_folder(tmp_path):
    assert check_output_folder(tmp_path, "--output") == tmp_path
    assert check_output_folder(tmp_path / "new", "--output") == tmp_path / "new"
    assert not (tmp_path / "new").exists()
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match=r"^--output: .* is a file, not a folder\.$"):
        check_output_folder(tmp_path / "f", "--output")
    with pytest.raises(ValueError, match=r"cannot be created: .*f' is a file"):
        check_output_folder(tmp_path / "f" / "sub", "--output")
    with pytest.raises(ValueError, match="does not exist; create it first"):
        check_output_folder(tmp_path / "a" / "b", "--output")


def test_check_input_file(tmp_path):
    (tmp_path / "m.npz").write_bytes(b"x")
    assert check_input_file(tmp_path / "m.npz", "model").name == "m.npz"
    with pytest.raises(ValueError, match=r"model: file .* does not exist"):
        check_input_file(tmp_path / "absent.npz", "model")
    with pytest.raises(ValueError, match="is not a file"):
        check_input_file(tmp_path, "model")


def test_memory_budget_error_is_csupers_and_both_builtins():
    import csuper
    from csuper._validation import MemoryBudgetError

    assert MemoryBudgetError is csuper.MemoryBudgetError
    assert issubclass(MemoryBudgetError, (ValueError)) and issubclass(
        MemoryBudgetError, MemoryError
    )
    assert issubclass(MemoryBudgetError, csuper.ValidationError)


def test_every_exception_class_is_defined_once_and_exported_from_csuper():
    import csuper
    import csuper._errors as errors
    from csuper import sae, study, toy

    for name in errors.__all__:
        cls = getattr(errors, name)
        assert getattr(csuper, name) is cls and name in csuper.__all__
        assert cls.__module__ == "csuper._errors"
    # the subpackages re-export the one definition
    assert toy.TrainingDivergedError is csuper.TrainingDivergedError
    assert sae.SAEDivergedError is csuper.SAEDivergedError
    assert study.StudyRecordError is csuper.StudyRecordError
    # each subclasses the built-in class a caller catches without knowing csuper
    assert issubclass(csuper.SAEDivergedError, csuper.TrainingDivergedError)
    assert issubclass(csuper.TrainingDivergedError, RuntimeError)
    assert issubclass(csuper.StudyRecordError, ValueError)
    assert issubclass(csuper.StoreCorruptionWarning, csuper.CsuperWarning)
    err = csuper.SAEDivergedError("nan loss", instance=1, step=7)
    assert (err.instance, err.step, err.model) == (1, 7, None)


@pytest.mark.parametrize(
    "bad", [[[1, 2], [3]], [[1, 2], [3, 4]], [1, [2]], np.zeros((2, 2), dtype=np.int64)]
)
def test_check_rng_refuses_nested_seed_sequences(bad):
    # numpy's SeedSequence flattens a nested (even ragged) list silently: not a seed csuper takes
    with pytest.raises(ValueError, match=r"^rng as a sequence of int seeds must be flat"):
        check_rng(bad)
    assert check_rng([1, 2]).integers(100) == np.random.default_rng([1, 2]).integers(100)
