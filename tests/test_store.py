"""The result store: every valid record survives corruption, each bad line is reported by its
number, folders that are not csuper's are refused before anything is written."""

from __future__ import annotations

import json
import warnings

import pytest

from csuper import StoreCorruptionWarning, StoreError
from csuper._store import ResultStore, make_key

CONFIG = {"n": 10, "grid": [1, 2]}


def _filled(folder, n=5) -> list[str]:
    store = ResultStore(folder, "demo", CONFIG)
    keys = [make_key(i=i) for i in range(n)]
    for i, key in enumerate(keys):
        store.append(key, {"value": i})
    return keys


def _lines(folder) -> list[bytes]:
    return (folder / "records.jsonl").read_bytes().splitlines(keepends=True)


def _reopen(folder) -> tuple[ResultStore, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        store = ResultStore(folder, "demo", CONFIG)
    return store, [w for w in caught if issubclass(w.category, StoreCorruptionWarning)]


def test_roundtrip_and_repr(tmp_path):
    keys = _filled(tmp_path / "s")
    store, caught = _reopen(tmp_path / "s")
    assert not caught and store.done == set(keys) and len(store) == 5
    assert store.get(keys[3]) == {"value": 3} and store.get("absent") is None
    assert [k for k, _ in store.records()] == keys
    assert repr(store) == f"ResultStore({str(tmp_path / 's')!r}, experiment='demo', 5 records)"


@pytest.mark.parametrize(
    "garbage",
    [
        b"this is not json\n",
        b'{"foo": 1}\n',  # valid JSON, not a record (was a KeyError traceback)
        b'{"key": 3, "record": {}}\n',
        b'{"key": "k", "record": [1]}\n',
        b"[1, 2, 3]\n",
        b"\x00\xff\xfe\x80 binary \x9c\n",  # not even UTF-8
        b'{"key": "k", "record": {}, "extra": 1}\n',
    ],
)
def test_a_bad_line_in_the_middle_keeps_every_valid_record(tmp_path, garbage):
    folder = tmp_path / "s"
    keys = _filled(folder)
    lines = _lines(folder)
    (folder / "records.jsonl").write_bytes(b"".join([*lines[:2], garbage, *lines[2:]]))
    store, caught = _reopen(folder)
    # the records after the bad line are kept too (they used to be dropped and recomputed)
    assert store.done == set(keys)
    assert store.corrupt_lines == [3]
    assert len(caught) == 1 and "line(s) 3 are not valid records" in str(caught[0].message)
    assert "kept 5 valid records" in str(caught[0].message)
    # the bad line is set aside for inspection, the records file holds the valid lines only
    assert (folder / "records.corrupt").read_bytes() == garbage
    assert _lines(folder) == lines
    # appends continue cleanly, and the next open is quiet
    store.append(make_key(i=99), {"value": 99})
    again, caught = _reopen(folder)
    assert not caught and len(again) == 6 and again.corrupt_lines == []


def test_several_bad_lines_are_each_reported_by_number(tmp_path):
    folder = tmp_path / "s"
    keys = _filled(folder, 4)
    lines = _lines(folder)
    text = [lines[0], b"x\n", lines[1], b"\n", lines[2], b"{}\n", b"{\n", lines[3]]
    (folder / "records.jsonl").write_bytes(b"".join(text))
    store, caught = _reopen(folder)
    assert store.done == set(keys)
    assert store.corrupt_lines == [2, 6, 7]  # the blank line 4 is harmless, not reported
    assert "line(s) 2, 6, 7 are not valid records" in str(caught[0].message)
    assert "3 corrupt lines set aside" in repr(store)


def test_a_truncated_last_line_is_dropped_quietly(tmp_path):
    # a crash in the middle of an append leaves a partial last line without its newline
    folder = tmp_path / "s"
    keys = _filled(folder, 3)
    with open(folder / "records.jsonl", "ab") as fh:
        fh.write(b'{"key": "half", "rec')
    store, caught = _reopen(folder)
    assert not caught and store.done == set(keys)
    store.append(make_key(i=7), {"value": 7})
    assert len(_reopen(folder)[0]) == 4 and all(line.endswith(b"\n") for line in _lines(folder))


def test_duplicate_keys_keep_the_first_record(tmp_path):
    folder = tmp_path / "s"
    keys = _filled(folder, 2)
    with open(folder / "records.jsonl", "ab") as fh:
        fh.write((json.dumps({"key": keys[0], "record": {"value": -1}}) + "\n").encode())
    store, caught = _reopen(folder)
    assert not caught and store.get(keys[0]) == {"value": 0}
    with pytest.raises(ValueError, match="already stored"):
        store.append(keys[0], {"value": 5})


def test_a_folder_that_lost_its_header_is_refused(tmp_path):
    # it used to reuse the old records silently under whatever config came next
    folder = tmp_path / "s"
    _filled(folder)
    (folder / "header.json").unlink()
    before = _lines(folder)
    with pytest.raises(StoreError, match=r"holds records\.jsonl but no header\.json"):
        ResultStore(folder, "demo", {"n": 11})
    assert _lines(folder) == before and not (folder / "header.json").exists()


@pytest.mark.parametrize(
    "header, message",
    [
        (b"\x00\xff garbage", "header.json is unreadable"),
        (b"{not json", "header.json is unreadable"),
        (b'{"experiment": "demo"}', "header.json was not written by csuper"),
        (b"[1, 2]", "header.json was not written by csuper"),
    ],
)
def test_an_unreadable_or_foreign_header_is_refused(tmp_path, header, message):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "header.json").write_bytes(header)
    with pytest.raises(StoreError, match=message):
        ResultStore(folder, "demo", CONFIG)


def test_other_experiments_and_configs_are_refused(tmp_path):
    _filled(tmp_path / "s")
    with pytest.raises(StoreError, match="refusing to mix them with experiment 'other'"):
        ResultStore(tmp_path / "s", "other", CONFIG)
    with pytest.raises(StoreError, match="nothing was written"):
        ResultStore(tmp_path / "s", "demo", {**CONFIG, "n": 11})
    # tuples and lists, numpy scalars: the same config after a JSON round trip
    np = pytest.importorskip("numpy")
    assert len(ResultStore(tmp_path / "s", "demo", {"n": np.int64(10), "grid": (1, 2)})) == 5


def test_a_refusal_names_only_what_differs(tmp_path):
    # a user who reruns a sweep with one option changed must see that option, not two dumps of
    # every option (a pricing folder's refusal was 2,500 characters of seeds and importances)
    long = {"seeds": list(range(10**15, 10**15 + 40)), "importance": [0.9**i for i in range(40)]}
    ResultStore(tmp_path / "s", "demo", {**long, "settings": {"n_steps": 200, "b": [0.9]}})
    with pytest.raises(StoreError) as exc:
        ResultStore(
            tmp_path / "s", "demo", {**long, "settings": {"n_steps": 300, "b": [0.9]}, "lr": 0.1}
        )
    message = str(exc.value).replace(str(tmp_path), "")
    assert "(lr: unset there, 0.1 here; settings.n_steps: 200 there, 300 here)" in message
    assert "seeds" not in message and len(message) < 300
    with pytest.raises(StoreError) as exc:
        ResultStore(tmp_path / "s", "other", long)
    message = str(exc.value).replace(str(tmp_path), "")
    assert "seeds" not in message and len(message) < 200


def test_folders_that_are_not_csupers_are_refused(tmp_path):
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(StoreError, match=r"is not empty \(holiday.jpg\) and holds no csuper"):
        ResultStore(foreign, "demo", CONFIG)
    assert sorted(p.name for p in foreign.iterdir()) == ["holiday.jpg"]  # nothing written
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        ResultStore(a_file, "demo", CONFIG)
    with pytest.raises(ValueError, match=r"cannot be created: .*file\.txt' is a file"):
        ResultStore(a_file / "sub", "demo", CONFIG)


def test_only_the_last_folder_is_created(tmp_path):
    with pytest.raises(ValueError, match="does not exist; create it first"):
        ResultStore(tmp_path / "a" / "b" / "c", "demo", CONFIG)
    assert not (tmp_path / "a").exists()
    ResultStore(tmp_path / "new", "demo", CONFIG)
    assert (tmp_path / "new" / "header.json").is_file()
    (tmp_path / "empty").mkdir()
    assert len(ResultStore(tmp_path / "empty", "demo", CONFIG)) == 0


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="folder must be a path"):
        ResultStore(3, "demo", CONFIG)
    with pytest.raises(TypeError, match="experiment must be a non-empty string"):
        ResultStore(tmp_path, "", CONFIG)
    with pytest.raises(TypeError, match="config must be a dict"):
        ResultStore(tmp_path, "demo", [1])
    with pytest.raises(TypeError, match="not JSON serialisable"):
        make_key(x=object())
