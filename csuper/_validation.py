"""Input validation shared by every public csuper function.

One voice for errors (scikit-learn's): ``"n_dims must be an integer in [1, 512]; got 0."``.
Impossible input raises ``TypeError`` (wrong kind) or ``ValueError`` (right kind, outside the
domain); numerical degeneracy warns. Public functions validate here once, then hand plain
contiguous arrays to the numba kernels, which do no checking of their own.
"""

from __future__ import annotations

import numbers
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from csuper._errors import MemoryBudgetError

__all__ = [
    "check_array",
    "check_bool",
    "check_frame",
    "check_int",
    "check_real",
    "check_rng",
    "format_interval",
    "scalar_or_array",
]

_FLOAT_DTYPES = (np.float32, np.float64)


def format_interval(
    low: float | None,
    high: float | None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> str:
    """Return the interval ``[low, high)`` style text used in error messages."""
    left = "[" if (low_inclusive and low is not None) else "("
    right = "]" if (high_inclusive and high is not None) else ")"
    lo = "-inf" if low is None else f"{low:g}" if isinstance(low, float) else str(low)
    hi = "inf" if high is None else f"{high:g}" if isinstance(high, float) else str(high)
    return f"{left}{lo}, {hi}{right}"


def _in_range(value, low, high, low_inclusive, high_inclusive) -> bool:
    if low is not None and (value < low or (value == low and not low_inclusive)):
        return False
    if high is not None and (value > high or (value == high and not high_inclusive)):
        return False
    return True


def check_int(
    value: Any,
    name: str,
    *,
    low: int | None = None,
    high: int | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> int:
    """Validate an integer parameter and return it as a Python ``int``.

    Parameters
    ----------
    value : object
        The value received.
    name : str
        The parameter's name, used in the error message.
    low, high : int or None
        Bounds of the allowed interval (``None`` for unbounded).
    low_inclusive, high_inclusive : bool
        Whether the bounds belong to the interval.

    Raises
    ------
    TypeError
        If ``value`` is not an integer (``bool`` is rejected; integral floats are not integers).
    ValueError
        If ``value`` lies outside the interval.

    Examples
    --------
    >>> check_int(3, "n_dims", low=1)
    3
    >>> check_int(0, "n_dims", low=1, high=512)
    Traceback (most recent call last):
    ...
    ValueError: n_dims must be an integer in [1, 512]; got 0.
    """
    interval = format_interval(low, high, low_inclusive, high_inclusive)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an integer in {interval}; got {value!r} of type "
            f"{type(value).__name__}."
        )
    value = int(value)
    if not _in_range(value, low, high, low_inclusive, high_inclusive):
        raise ValueError(f"{name} must be an integer in {interval}; got {value}.")
    return value


def check_real(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Validate a finite real scalar and return it as a Python ``float``.

    Raises
    ------
    TypeError
        If ``value`` is not a real number (``bool`` is rejected).
    ValueError
        If ``value`` is NaN, infinite, or outside the interval.

    Examples
    --------
    >>> check_real(0.1, "eps", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    0.1
    >>> check_real(1.5, "eps", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    Traceback (most recent call last):
    ...
    ValueError: eps must be a real number in (0, 1); got 1.5.
    """
    interval = format_interval(low, high, low_inclusive, high_inclusive)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number in {interval}; got {value!r} "
            f"of type {type(value).__name__}."
        )
    try:
        value = float(value)
    except OverflowError:  # an int beyond float range
        text = str(value)
        raise ValueError(
            f"{name} must be a real number in {interval}; got an integer of {len(text)} digits "
            f"({text[:12]}...), beyond floating point."
        ) from None
    if not np.isfinite(value) or not _in_range(value, low, high, low_inclusive, high_inclusive):
        raise ValueError(f"{name} must be a real number in {interval}; got {value!r}.")
    return value


def check_bool(value: Any, name: str) -> bool:
    """Validate a boolean flag and return it as a Python ``bool``.

    Only ``True``/``False`` (and numpy booleans) are flags: a string such as ``"no"`` or a number
    would otherwise be read by its truth value.

    Examples
    --------
    >>> check_bool(True, "nonnegative")
    True
    >>> check_bool("no", "nonnegative")
    Traceback (most recent call last):
    ...
    TypeError: nonnegative must be True or False; got 'no' of type str.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{name} must be True or False; got {value!r} of type {type(value).__name__}."
        )
    return bool(value)


def scalar_or_array(value: Any, scalar: bool) -> Any:
    """Scalar in, scalar out: ``value`` as a Python float when ``scalar``, else as an ndarray.

    Functions that broadcast over array arguments call this on their result with
    ``scalar = all(np.ndim(a) == 0 for a in the broadcast arguments)``.

    Examples
    --------
    >>> scalar_or_array(np.array([0.5]), True), scalar_or_array([0.5], False)
    (0.5, array([0.5]))
    """
    arr = np.asarray(value)
    return float(arr.reshape(())) if scalar else arr


def check_array(
    value: Any,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    shape: tuple[int | None, ...] | None = None,
    dtype: Any = None,
    finite: bool = True,
    nonnegative: bool = False,
    low: float | None = None,
    high: float | None = None,
    min_size: int = 1,
    copy: bool = False,
) -> np.ndarray:
    """Validate an array-like of real numbers and return a C-contiguous ndarray.

    Parameters
    ----------
    value : array_like
        The input.
    name : str
        The parameter's name, used in error messages.
    ndim : int or tuple of int, optional
        Allowed number(s) of dimensions.
    shape : tuple, optional
        Required shape; ``None`` entries match any length.
    dtype : dtype or None
        Target dtype. ``None`` keeps float32 and float64 as they are and converts anything else
        (integers, bools) to float64.
    finite : bool
        Reject NaN and infinite entries.
    nonnegative : bool
        Reject negative entries.
    low, high : float or None
        Inclusive bounds every entry must respect (e.g. ``low=0, high=1`` for probabilities).
    min_size : int
        Minimum number of elements.
    copy : bool
        Always return a fresh copy (so that the caller may modify it).

    Raises
    ------
    TypeError
        If the input is not numeric (strings, objects, complex numbers) or is a single bool
        (arrays of bools are taken as 0/1).
    ValueError
        On wrong dimensions or shape, too few elements, non-finite or negative entries, or
        entries outside ``[low, high]``.

    Examples
    --------
    >>> check_array([0.2, 1.5], "feature_probability", low=0, high=1)
    Traceback (most recent call last):
    ...
    ValueError: feature_probability must lie in [0, 1]; got 1.5.
    """
    if value is None:
        raise TypeError(f"{name} must be an array of real numbers; got None.")
    if isinstance(value, (str, bytes, dict, set, frozenset)):
        raise TypeError(
            f"{name} must be an array of real numbers; got {type(value).__name__} {value!r:.60}."
        )
    if isinstance(value, (bool, np.bool_)):  # a flag where a number is expected (as check_real)
        raise TypeError(f"{name} must be a real number or an array of them; got {value!r}.")
    try:
        arr = np.asarray(value)
    except ValueError:  # ragged nested sequences
        raise ValueError(
            f"{name} must be a rectangular array of real numbers (every row the same length); "
            "got a ragged nested sequence."
        ) from None
    except (TypeError, OverflowError) as exc:  # objects numpy cannot take as an array
        raise TypeError(
            f"{name} must be an array of real numbers; got {type(value).__name__} ({exc})."
        ) from None
    if arr.dtype == object:
        raise TypeError(f"{name} must be an array of real numbers; got {_first_non_real(arr)}.")
    if not (np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)):
        kind = {"U": "strings", "S": "bytes", "M": "dates", "m": "time deltas", "V": "records"}
        what = kind.get(arr.dtype.kind, "entries")
        raise TypeError(f"{name} must be an array of real numbers; got {what} (dtype {arr.dtype}).")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real; got complex dtype {arr.dtype}.")
    if dtype is None:
        target = arr.dtype if arr.dtype in _FLOAT_DTYPES else np.float64
    else:
        target = np.dtype(dtype)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ValueError(
                f"{name} must be a {want}-D array; got {arr.ndim}-D with shape {arr.shape}."
            )
    if shape is not None:
        ok = len(shape) == arr.ndim and all(s is None or s == t for s, t in zip(shape, arr.shape))
        if not ok:
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}; got {arr.shape}.")
    if arr.size < min_size:
        raise ValueError(f"{name} must have at least {min_size} element(s); got shape {arr.shape}.")
    arr = (
        np.array(arr, dtype=target, order="C", copy=True)
        if copy
        else np.ascontiguousarray(arr, dtype=target)
    )
    if finite and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"{name} must contain only finite values; got {bad} NaN or infinite entries."
        )
    if nonnegative and np.any(arr < 0):
        raise ValueError(f"{name} must be nonnegative; got minimum {arr.min()!r}.")
    if low is not None or high is not None:
        outside = np.zeros(arr.shape, dtype=bool)
        if low is not None:
            outside |= arr < low
        if high is not None:
            outside |= arr > high
        if outside.any():
            raise ValueError(
                f"{name} must lie in {format_interval(low, high)}; got "
                f"{float(arr[outside].flat[0])!r}."
            )
    return arr


def _first_non_real(arr: np.ndarray) -> str:
    """Describe the first entry of an object array that is not a real number."""
    for item in arr.flat:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Real):
            return f"an entry {item!r:.40} of type {type(item).__name__}"
        if isinstance(item, numbers.Integral) and not -(2**63) <= int(item) < 2**64:
            return f"an integer entry too large for 64 bits ({str(item)[:12]}...)"
    return f"entries numpy keeps as Python objects (dtype {arr.dtype})"


def check_frame(
    W: Any,
    name: str = "W",
    *,
    allow_zero_columns: bool = False,
    min_columns: int = 1,
    dtype: Any = None,
) -> np.ndarray:
    """Validate a frame: a finite real matrix of shape (m, n) whose columns are directions.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Columns ``w_i`` are feature directions (toy model) or sensing columns (compressed sensing).
    name : str
        The parameter's name for messages.
    allow_zero_columns : bool
        If False (the default), a column of zero norm raises: it has no direction.
    min_columns : int
        Minimum number of columns n (2 for anything that compares pairs).
    dtype : dtype or None
        As in :func:`check_array` (float32 and float64 are kept by default).

    Returns
    -------
    ndarray, shape (m, n)
        C-contiguous float array.

    Examples
    --------
    >>> check_frame([[1.0, 0.0], [0.0, 0.0]])
    Traceback (most recent call last):
    ...
    ValueError: W has 1 zero column(s) (first at index 1); every column must have a direction
    (nonzero norm).
    """
    arr = check_array(W, name, ndim=2, dtype=dtype)
    if arr.shape[0] < 1:
        raise ValueError(f"{name} must have at least one row; got shape {arr.shape}.")
    if arr.shape[1] < min_columns:
        raise ValueError(
            f"{name} must have at least {min_columns} column(s) (features); got shape {arr.shape}."
        )
    if not allow_zero_columns:
        zero = ~np.any(arr != 0, axis=0)
        if zero.any():
            raise ValueError(
                f"{name} has {int(zero.sum())} zero column(s) (first at index "
                f"{int(np.argmax(zero))}); every column must have a direction (nonzero norm)."
            )
    return arr


def check_rng(rng: Any) -> np.random.Generator:
    """Normalise an ``rng`` argument to a :class:`numpy.random.Generator` (SPEC 7).

    Parameters
    ----------
    rng : None, int, flat (1-D) array of int, numpy.random.SeedSequence, BitGenerator or Generator
        ``None`` draws fresh OS entropy; an int or seed sequence gives a reproducible stream; a
        Generator is used as it is (and advanced by the caller's use).

    Raises
    ------
    TypeError
        For anything else (notably the legacy ``numpy.random.RandomState``).

    Examples
    --------
    >>> int(check_rng(7).integers(100)) == int(check_rng(7).integers(100))
    True
    """
    if isinstance(rng, np.random.RandomState):
        raise TypeError(
            "rng must be None, an int seed, a SeedSequence, a BitGenerator or a numpy Generator; "
            "got a legacy RandomState (use numpy.random.default_rng)."
        )
    if isinstance(rng, (bool, np.bool_)) or isinstance(rng, (float, str, bytes)):
        raise TypeError(
            "rng must be None, an int seed, a SeedSequence, a BitGenerator or a numpy Generator; "
            f"got {rng!r}."
        )
    if isinstance(rng, (list, tuple, np.ndarray)):  # entropy: a flat sequence of integers
        entropy = np.asarray(rng, dtype=object)  # a ragged list gives a 1-D array of lists
        nested = entropy.ndim != 1 or any(isinstance(e, (list, tuple, np.ndarray)) for e in entropy)
        if nested:  # numpy would flatten a nested (even ragged) list silently
            raise ValueError(
                "rng as a sequence of int seeds must be flat (1-D); got a nested sequence "
                f"{rng!r:.60}."
            )
    try:
        return np.random.default_rng(rng)
    except ValueError as exc:
        raise ValueError(f"rng as an int seed must be >= 0; got {rng!r} ({exc}).") from None
    except TypeError as exc:
        raise TypeError(
            "rng must be None, an int seed, a SeedSequence, a BitGenerator or a numpy "
            f"Generator; got {rng!r} ({exc})."
        ) from None


# ----------------------------------------------------------------------------------------------
# paths
# ----------------------------------------------------------------------------------------------
def check_path(value: Any, name: str) -> Path:
    """Validate a filesystem path argument: a non-empty ``str`` or ``os.PathLike``.

    An ``int`` would be taken by ``open`` as a file descriptor and ``bytes`` as a raw name: both
    are refused, so that a misplaced argument cannot write into file descriptor 3.

    Examples
    --------
    >>> check_path("models/run.npz", "output").name
    'run.npz'
    >>> check_path(3, "output")
    Traceback (most recent call last):
    ...
    TypeError: output must be a path (str or os.PathLike); got 3 of type int.
    """
    import os

    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(
            f"{name} must be a path (str or os.PathLike); got {value!r:.80} of type "
            f"{type(value).__name__}."
        )
    text = os.fspath(value)
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a path (str or os.PathLike of str); got {value!r:.80}.")
    if not text or "\0" in text:
        raise ValueError(f"{name} must be a non-empty path without NUL characters; got {text!r}.")
    return Path(text)


def _check_parent(path: Path, name: str) -> None:
    parent = path.parent
    if not parent.exists():
        missing = parent
        while not missing.parent.exists() and missing.parent != missing:
            missing = missing.parent
        if missing.parent.exists() and not missing.parent.is_dir():
            raise ValueError(
                f"{name}: {str(path)!r} cannot be created: {str(missing.parent)!r} is a file, "
                "not a folder."
            )
        raise ValueError(
            f"{name}: folder {str(parent)!r} does not exist; create it first (csuper creates "
            "no folders above the one it writes)."
        )
    if not parent.is_dir():
        raise ValueError(
            f"{name}: {str(path)!r} cannot be created: {str(parent)!r} is a file, not a folder."
        )
    import os

    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{name}: folder {str(parent)!r} is not writable.")


def check_output_file(value: Any, name: str) -> Path:
    """Validate the path of a file that will be written, before the work that produces it.

    The file may exist (it is replaced) but must not be a folder; its folder must exist and be
    writable (nothing is created above it).

    Raises
    ------
    TypeError
        ``value`` is not a str or os.PathLike.
    ValueError
        The path is a folder, its folder is missing, is a file, or is not writable.

    Examples
    --------
    >>> check_output_file("/nonexistent/plot.png", "--plot")
    Traceback (most recent call last):
    ...
    ValueError: --plot: folder '/nonexistent' does not exist; create it first (csuper creates no
    folders above the one it writes).
    """
    path = check_path(value, name)
    if path.is_dir():
        raise ValueError(f"{name}: {str(path)!r} is a folder; give the name of a file.")
    _check_parent(path, name)
    return path


def check_output_folder(value: Any, name: str) -> Path:
    """Validate the path of a folder that will be written, before the work that fills it.

    The folder may exist; if it does not, its parent must exist and be writable (only the last
    folder is created, by the caller). Whether an existing folder's contents may be reused is
    the caller's decision (:class:`csuper._store.ResultStore` refuses folders that are not
    csuper's).

    Raises
    ------
    TypeError
        ``value`` is not a str or os.PathLike.
    ValueError
        The path is a file, or its parent folder is missing, is a file, or is not writable.

    Examples
    --------
    >>> check_output_folder("/nonexistent/results", "--output")
    Traceback (most recent call last):
    ...
    ValueError: --output: folder '/nonexistent' does not exist; create it first (csuper creates
    no folders above the one it writes).
    """
    path = check_path(value, name)
    if path.exists():
        if not path.is_dir():
            raise ValueError(f"{name}: {str(path)!r} is a file, not a folder.")
        return path
    _check_parent(path, name)
    return path


def check_input_file(value: Any, name: str) -> Path:
    """Validate the path of a file that will be read: it must exist and be a file.

    Examples
    --------
    >>> check_input_file("/nonexistent/model.npz", "model")
    Traceback (most recent call last):
    ...
    ValueError: model: file '/nonexistent/model.npz' does not exist.
    """
    path = check_path(value, name)
    if not path.exists():
        raise ValueError(f"{name}: file {str(path)!r} does not exist.")
    if not path.is_file():
        raise ValueError(f"{name}: {str(path)!r} is not a file.")
    return path


def read_npz(path: Path, what: str) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file at ``path`` (checked by :func:`check_input_file`), read
    with ``allow_pickle=False``; ``what`` names the file's kind in the error.

    A file that is not a zip archive (a JSON report, a ``.npy`` array, a text file) is refused
    by name, not with NumPy's advice about pickled data.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "summary.json"
    >>> _ = f.write_text("{}")
    >>> read_npz(f, "csuper toy-model file")
    Traceback (most recent call last):
    ...
    ValueError: ...summary.json is not a readable csuper toy-model file (.npz): it is not a zip
    archive of NumPy arrays.
    """
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is not a readable {what} (.npz): it is not a zip archive of NumPy arrays."
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            return {key: f[key] for key in f.files}
    except Exception as exc:  # OSError, ValueError, zipfile.BadZipFile, EOFError
        raise ValueError(f"{path} is not a readable {what} (.npz): {exc}") from None


# ----------------------------------------------------------------------------------------------
# memory budget
# ----------------------------------------------------------------------------------------------
#: Environment variable that sets csuper's memory budget: bytes as a plain number, or with a
#: unit (``"512MiB"``, ``"8GiB"``, ``"2GB"``, ``"1.5T"``; K/M/G/T and KiB/MiB/GiB/TiB are powers
#: of 1024, KB/MB/GB/TB powers of 1000).
MEMORY_BUDGET_ENV = "CSUPER_MEMORY_BUDGET"

_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_FALLBACK_MEMORY = 16 << 30  # where the machine's memory cannot be read (half of it is the budget)


def _format_bytes(nbytes: float) -> str:
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024.0 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024.0
    raise AssertionError  # pragma: no cover


def _parse_bytes(text: str) -> int:
    import re

    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(i?)(B?)\s*", text, flags=re.IGNORECASE)
    if match is None or float(match[1]) <= 0:
        raise ValueError(
            f"{MEMORY_BUDGET_ENV} must be a positive number of bytes, optionally with a unit "
            f"(e.g. 8GiB, 500MB); got {text!r}."
        )
    unit = match[2].upper()
    decimal = unit and not match[3] and match[4]  # "GB": powers of 1000; "G", "GiB": of 1024
    scale = 1000 ** "KMGT".index(unit) * 1000 if decimal else _UNITS[unit]
    return int(float(match[1]) * scale)


def _machine_memory() -> int:
    """Physical memory, or the cgroup (container) limit if that is lower; a fallback if unknown."""
    import os

    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        total = _FALLBACK_MEMORY
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path, encoding="ascii") as fh:
                limit = fh.read().strip()
        except OSError:
            continue
        if limit.isdigit():
            total = min(total, int(limit))
    return int(total)


def memory_budget() -> int:
    """The most memory, in bytes, that one csuper call may allocate (:func:`check_memory`).

    ``$CSUPER_MEMORY_BUDGET`` if set (read at every call); otherwise half of the machine's memory
    (its physical memory, or the container's cgroup limit when that is lower).

    Examples
    --------
    >>> import os
    >>> os.environ["CSUPER_MEMORY_BUDGET"] = "8GiB"
    >>> memory_budget() == 8 * 2**30
    True
    >>> del os.environ["CSUPER_MEMORY_BUDGET"]
    """
    import os

    text = os.environ.get(MEMORY_BUDGET_ENV)
    if text:
        return _parse_bytes(text)
    return _machine_memory() // 2


def check_memory(nbytes: float, what: str, alternative: str) -> None:
    """Raise before allocating if ``nbytes`` exceeds csuper's memory budget.

    Parameters
    ----------
    nbytes : int or float
        Estimated peak memory of the work, in bytes (may be astronomically large or ``inf``).
    what : str
        The work and its size, e.g. ``"overlap_matrix of n_features=60000 (a 60000 x 60000
        float64 matrix)"``.
    alternative : str
        What to do instead: the streamed function, a smaller size, another option.

    Raises
    ------
    MemoryBudgetError
        (a ``ValueError`` and a ``MemoryError``) naming the size, the estimate, the budget and
        the alternative.

    Notes
    -----
    The budget is :func:`memory_budget`: ``$CSUPER_MEMORY_BUDGET`` if set, else half of the
    machine's memory. Functions that can allocate more than their input call this with their
    estimate before allocating, so that an impossible size fails at once with advice instead of
    an out-of-memory kill minutes later.

    Examples
    --------
    >>> import os
    >>> os.environ["CSUPER_MEMORY_BUDGET"] = "1GiB"
    >>> check_memory(8 * 60000**2, "a 60000 x 60000 float64 matrix", "stream it in blocks")
    Traceback (most recent call last):
    ...
    csuper._errors.MemoryBudgetError: a 60000 x 60000 float64 matrix needs about 26.8 GiB, more
    than csuper's memory budget of 1.0 GiB (set by CSUPER_MEMORY_BUDGET); stream it in blocks.
    >>> del os.environ["CSUPER_MEMORY_BUDGET"]
    """
    import os

    budget = memory_budget()
    if nbytes <= budget:
        return
    if os.environ.get(MEMORY_BUDGET_ENV):
        source = f"set by {MEMORY_BUDGET_ENV}"
    else:
        source = f"half of this machine's memory; raise it with {MEMORY_BUDGET_ENV}=..."
    estimate = "more than 1e300 bytes" if not nbytes < 1e300 else f"about {_format_bytes(nbytes)}"
    raise MemoryBudgetError(
        f"{what} needs {estimate}, more than csuper's memory budget of {_format_bytes(budget)} "
        f"({source}); {alternative}."
    )


__all__ += ["check_path", "check_output_file", "check_output_folder", "check_input_file"]
__all__ += ["read_npz"]
__all__ += ["MEMORY_BUDGET_ENV", "MemoryBudgetError", "check_memory", "memory_budget"]
