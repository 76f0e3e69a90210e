"""Issue 23: layers.csv is written and read in blocks of rows (the writing phase's memory). The
blocked writer must give the same bytes as one whole table, and the blocked reader the same arrays
as the strict per-cell reader (the reference); anything unusual falls back to the strict reader,
whose one-line error still names the problem."""

import io

import numpy as np
import pytest

from harness.errors import ResultsError
from harness.formats import results as formats


def _trace(name: str, rng: np.random.Generator, serving: bool) -> formats.StrategyTrace:
    requests, tokens, layers, k, experts, sats = 7, 5, 4, 2, 6, 50
    shape = (requests, tokens)
    start = rng.integers(0, 10**9, shape)
    extra = {}
    if serving:
        extra["serving"] = {"output_tokens": rng.integers(1, tokens + 1, requests),
                            "replica": rng.integers(0, 2, requests),
                            "replica_gateways": rng.integers(0, sats, (2, layers)),
                            "replica_experts": rng.integers(0, sats, (2, layers, experts))}
    return formats.StrategyTrace(
        strategy=name, token_start_ns=start, token_end_ns=start + rng.integers(1, 10**7, shape),
        combine_ns=rng.integers(-1, 10**12, shape + (layers,)),
        activations=np.stack([rng.permutation(experts)[:k] for _ in range(requests * tokens * layers)]).reshape(
            shape + (layers, k)),
        gateways=rng.integers(0, sats, layers), experts=rng.integers(0, sats, (layers, experts)),
        subnets=np.full(sats, -1), analytic_ns=np.full(shape, -1), compute_ns=np.full(shape, -1),
        serialization_ns=np.full(shape, -1), propagation_ns=np.full(shape, -1), counters={}, **extra)


def _whole_table_layers_csv(traces) -> str:
    """The writer before issue 23's blocks: one table of every row (the reference)."""
    lines = [",".join(formats.layer_columns(traces[0].activations.shape[-1]))]
    for tr in traces:
        requests, tokens, layers, k = tr.activations.shape
        for r in range(requests):
            for t in range(tokens):
                if tr.serving is not None and t >= tr.serving["output_tokens"][r]:
                    continue
                for layer in range(layers):
                    ids = tr.activations[r, t, layer]
                    if tr.serving is not None:
                        rep = tr.serving["replica"][r]
                        gw, sats = tr.serving["replica_gateways"][rep, layer], tr.serving["replica_experts"][rep, layer, ids]
                    else:
                        gw, sats = tr.gateways[layer], tr.experts[layer, ids]
                    cells = [r, t, layer, gw, *ids, *sats, tr.combine_ns[r, t, layer]]
                    lines.append(tr.strategy + "," + ",".join(str(int(c)) for c in cells))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("serving", [False, True])
def test_blocked_layers_csv_matches_whole_table_and_strict_reader(monkeypatch, tmp_path, serving):
    rng = np.random.default_rng(23)
    traces = [_trace("a", rng, serving), _trace("b", rng, serving)]
    want = _whole_table_layers_csv(traces)
    monkeypatch.setattr(formats, "_ROW_BLOCK", 13)  # many blocks, one ending mid-token
    monkeypatch.setattr(formats, "_PARSE_CHARS", 17)  # blocks of a line or two
    text = formats.layers_csv(traces)
    assert text == want  # byte-identical to the whole-table writer
    columns = formats.layer_columns(2)
    fast = formats._fast_by_strategy(text, columns)
    strict = formats._by_strategy(tmp_path / "layers.csv", formats._csv_rows(tmp_path, columns, "layers.csv", text),
                                  columns)
    assert list(fast) == list(strict) == ["a", "b"]
    for name in strict:
        for column in columns[1:]:
            assert fast[name][column].dtype == np.int64
            np.testing.assert_array_equal(fast[name][column], strict[name][column])
    one = formats._fast_by_strategy(formats.layers_csv(traces[:1]), columns)  # one strategy: the table itself
    np.testing.assert_array_equal(one["a"]["t_combine_ns"], strict["a"]["t_combine_ns"])


@pytest.mark.parametrize("damage, words", [
    (lambda s: s.replace("\n", "\n\n", 3), None),  # a blank line: skipped by the strict reader
    (lambda s: s.replace("\na,", "\na,1x", 1), "not a whole number"),
    (lambda s: s.rstrip("\n") + ",5\n", "fields"),
    (lambda s: s.replace("\nb,", "\n,", 1), "empty strategy name"),
])
def test_unusual_layers_csv_falls_back_to_the_strict_reader(tmp_path, damage, words):
    rng = np.random.default_rng(5)
    text = damage(formats.layers_csv([_trace("a", rng, False), _trace("b", rng, False)]))
    columns = formats.layer_columns(2)
    path = tmp_path / "layers.csv"
    path.write_text(text)
    assert formats._fast_by_strategy(text, columns) is None
    if words is None:  # the strict reader accepts it; so does the reader, through the fallback
        got = formats._read_layers_csv(path, {})
        want = formats._fast_by_strategy(text.replace("\n\n", "\n"), columns)
        assert list(got) == list(want) == ["a", "b"]
        for name in want:
            for column in columns[1:]:
                np.testing.assert_array_equal(got[name][column], want[name][column])
        return
    with pytest.raises(ResultsError, match=words):
        formats._read_layers_csv(path, {})


@pytest.mark.parametrize("chars", [1, 40, 1 << 20])
@pytest.mark.parametrize("ending", ["\n", "", "\r\n"])
def test_blocked_parser_any_block_size_and_line_ending(monkeypatch, tmp_path, chars, ending):
    """Blocks cut by characters (through the end of a line) give the strict reader's arrays
    whatever the block size, with a last line with or without its newline and with CRLF lines."""
    rng = np.random.default_rng(7)
    text = formats.layers_csv([_trace("a", rng, True), _trace("b", rng, True)]).rstrip("\n")
    text = text.replace("\n", "\r\n") + "\r\n" if ending == "\r\n" else text + ending
    columns = formats.layer_columns(2)
    monkeypatch.setattr(formats, "_PARSE_CHARS", chars)
    fast = formats._fast_by_strategy(text, columns)
    strict = formats._by_strategy(tmp_path / "layers.csv", formats._csv_rows(tmp_path, columns, "layers.csv", text),
                                  columns)
    assert fast is not None and list(fast) == list(strict) == ["a", "b"]
    for name in strict:
        for column in columns[1:]:
            np.testing.assert_array_equal(fast[name][column], strict[name][column])


@pytest.mark.parametrize("chars", [1, 40, 1 << 18])
@pytest.mark.parametrize("damage", [
    lambda s: s, lambda s: s.rstrip("\n"), lambda s: s.replace("\n", "\r\n"), lambda s: "\ufeff" + s,
    lambda s: s.replace("\n", "\n\n", 3), lambda s: s.replace("\na,", "\na,1x", 1), lambda s: s.rstrip("\n") + ",5\n",
    lambda s: s.replace("\nb,", "\n,", 1), lambda s: s.replace("\na,", "\na\0,", 1), lambda s: s.split("\n", 1)[0],
    lambda s: s.split("\n", 1)[0] + "\n", lambda s: "",
])
def test_file_parser_equals_text_parser(monkeypatch, tmp_path, chars, damage):
    """layers.csv parsed from the file in blocks of bytes gives what the text parser gives (the
    reference: the file's whole text), None included, whatever the block size; a NUL byte gives
    None, so the strict reader refuses the file as before; and _read_layers_csv returns the same."""
    rng = np.random.default_rng(11)
    text = damage(formats.layers_csv([_trace("a", rng, True), _trace("b", rng, True)]))
    path = tmp_path / "layers.csv"
    path.write_bytes(text.encode("utf-8"))
    columns = formats.layer_columns(2)
    monkeypatch.setattr(formats, "_PARSE_CHARS", chars)
    from_file = formats._fast_file_by_strategy(path, columns)
    from_text = None if "\0" in text else formats._fast_by_strategy(text.removeprefix("\ufeff"), columns)
    assert (from_file is None) == (from_text is None)
    if from_text is not None:
        assert list(from_file) == list(from_text) == ["a", "b"]
        for name in from_text:
            for column in columns[1:]:
                np.testing.assert_array_equal(from_file[name][column], from_text[name][column])
        got = formats._read_layers_csv(path, {})
        np.testing.assert_array_equal(got["b"]["t_combine_ns"], from_text["b"]["t_combine_ns"])
    elif "\0" in text:
        with pytest.raises(ResultsError, match="binary"):
            formats._read_layers_csv(path, {})


def test_file_parser_refuses_what_the_text_reader_refuses(tmp_path):
    """Not UTF-8, or missing: None from the file parser; the strict reader's one-line error."""
    rng = np.random.default_rng(3)
    path = tmp_path / "layers.csv"
    path.write_bytes(formats.layers_csv([_trace("a", rng, False)]).encode() + b"a,\xff\n")
    assert formats._fast_file_by_strategy(path, formats.layer_columns(2)) is None
    with pytest.raises(ResultsError, match="not UTF-8"):
        formats._read_layers_csv(path, {})
    assert formats._fast_file_by_strategy(tmp_path / "missing.csv", formats.layer_columns(2)) is None
    with pytest.raises(ResultsError, match="not found"):
        formats._read_layers_csv(tmp_path / "missing.csv", {})


@pytest.mark.parametrize("suffixed", [False, True])
def test_rows_written_through_one_format_equal_savetxts(suffixed, monkeypatch):
    """Issue 23 (the writing phase): the CSV rows are formatted with one "%d,..." format per row
    instead of np.savetxt; the text is savetxt's (the reference), character for character: negative,
    -1 and 19-digit cells, a strategy name with "%" in it, blocks of rows (a short last one), an
    empty table and a one-column one."""
    monkeypatch.setattr(formats, "_ROW_BLOCK", 7)
    rng = np.random.default_rng(23)
    table = rng.integers(-2**62, 2**62, size=(30, 9))
    table[:, 0] = -1
    table[3] = 0
    for name, rows in (("space-xnet", table), ("50%-odd,", table.astype(np.float64).round()),
                       ("one", table[:, :1]), ("none", table[:0])):
        suffixes = [f",ok,{i}" for i in range(len(rows))] if suffixed else None
        got, want = io.StringIO(), io.StringIO()
        formats._write_rows(got, name, rows, suffixes)
        formats._savetxt_rows(want, name, rows, suffixes)
        assert got.getvalue() == want.getvalue()
        assert got.getvalue().count("\n") == len(rows)


def test_cells_read_straight_as_ints_as_the_string_array_cast_reads_them():
    """Issue 23 (the writing phase's read-back): the readers turn text cells into int64 straight
    from the strings; every cell gives the value, or the error, of the fixed-width string array's
    cast (the reference): signs, spaces, leading zeros, int64's ends, and what neither takes."""
    cells = ["5", "-1", "0", "-0", "+5", " 5", "5 ", "\t7", "0007", "1_000", "5\r", "9223372036854775807",
             "-9223372036854775808", "123456789012345678"]
    np.testing.assert_array_equal(formats._ints(cells), np.array(cells, dtype=str).astype(np.int64))
    assert formats._ints(cells).dtype == np.int64 and formats._ints([]).shape == (0,)
    for bad in ["", "5.0", "1e3", "0x1f", "nan", "a", "\x005", "9223372036854775808", "-9223372036854775809"]:
        with pytest.raises((ValueError, OverflowError)) as want:
            np.array(["1", bad], dtype=str).astype(np.int64)
        with pytest.raises(want.type):
            formats._ints(["1", bad])


def _loop_cells(lines, width):
    """The per-line loop of _parse_blocks (the reference): (heads, cells) or None."""
    heads, cells = [], []
    for line in lines:
        head, sep, rest = line.rstrip("\r\n").partition(",")
        if not head or not sep or rest.count(",") != width - 1:
            return None
        heads.append(head)
        cells.append(rest)
    return heads, ",".join(cells).split(",")


@pytest.mark.parametrize("seed", range(40))
def test_one_strategy_blocks_read_without_the_line_loop_as_with_it(seed):
    """Issue 23 (the writing phase's read-back): a block whose every line is one strategy's is cut
    into cells with string and array operations; those are the per-line loop's cells (the
    reference), and every other block (two strategies, a line with a field too many or too few, an
    empty line, a carriage return, a name that only starts like the first) is left to the loop."""
    rng = np.random.default_rng(seed)
    width = int(rng.integers(1, 6))
    rows = [",".join(str(v) for v in rng.integers(-5, 10**6, width)) for _ in range(int(rng.integers(1, 30)))]
    name = ["space-xnet", "sx", "é-x"][seed % 3]
    lines = [f"{name},{row}" for row in rows]
    kind = seed % 8
    if kind == 1:
        lines[-1] = "rand-place," + rows[-1]
    elif kind == 2:
        lines[len(lines) // 2] += ",7"
    elif kind == 3 and width > 1:
        lines[0] = lines[0].rsplit(",", 1)[0]
    elif kind == 4:
        lines.insert(len(lines) // 2, "")
    elif kind == 5:
        lines[0] += "\r"
    elif kind == 6:
        lines[-1] = name + "x," + rows[-1]
    chunk = "\n".join(lines) + ("\n" if seed % 2 else "")
    block = chunk.split("\n")
    if chunk.endswith("\n"):
        block.pop()
    want = _loop_cells(block, width)
    got = formats._one_head_cells(chunk, block, width)
    if want is not None and len(set(want[0])) == 1 and "\r" not in chunk:
        assert got == (want[0][0], want[1])
    else:
        assert got is None
    assert kind not in (1, 2, 4, 5, 6) or got is None
    assert kind not in (0, 7) or got is not None  # a clean block takes the fast path
