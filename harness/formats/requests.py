"""Serving formats: the arrivals file a scenario names, and a run's requests.csv.

- arrivals CSV (``serving.arrivals_path``): a header ``time_s,prompt_tokens`` (or
  ``time_s,prompt_tokens,output_tokens``) then one line per request, times in seconds from the
  run's start, non-decreasing, exactly ``traffic.requests`` lines; output tokens in [1,
  ``traffic.tokens_per_request``].
- ``requests.csv`` (results directory, serving runs): one row per request and strategy:
  ``strategy, request, replica, arrival_ns, prompt_tokens, output_tokens, first_token_ns, end_ns,
  ttft_ns, tpot_ns, e2e_ns, status``. ``first_token_ns`` is when token 0 (the prefill pass, with
  prefill) left layer 0's gateway; ``ttft_ns = first_token_ns - arrival_ns``; ``tpot_ns`` the mean
  gap between the request's later token ends (-1 with fewer than two); ``e2e_ns = end_ns -
  arrival_ns``; ``queued_ns`` how long the request waited at layer 0's gateway for KV-cache memory
  (its caches admitted while they fit the board beside the weights; 0 when it started at once, -1
  when it never did); status ``completed``, ``unfinished`` (not every token ended by the horizon) or,
  with a ``faults`` section, ``failed`` (a message lost after all retries or a component lost; the
  reason is in tokens.csv).
  With users on the ground (a ``users`` section) the times are the user's (``first_token_ns`` and
  ``end_ns`` when tokens 0 and last reached the user), the columns ``site, region, serving_sat,
  uplink_ns, downlink_ns, gsl_ns`` follow ``e2e_ns`` (harness/analysis/serving.py ``user_columns``),
  and status may be ``coverage-gap`` (the request arrived while its site had no satellite above
  the minimum elevation: it was not routed).
  With ``faults.recovery`` other than none (docs/failover.md) the columns ``failovers,
  replacements, lost_ns`` come before status: how often the request moved to another replica, how
  often it restarted after a re-placement, and the time its abandoned attempts (and its waits for a
  re-placement) cost it, from each abandoned attempt's start to the next one's; its times are those
  of its last attempt, its replica the one it arrived at; and status may be ``failed`` (no replica
  was left to fail over to; the reason is in tokens.csv).
- ``coverage_gaps.csv`` (results directory, runs with users): ``site, start_s, end_s`` per stretch of
  snapshots in which a user site had no satellite above the minimum elevation.
- ``user_sites.csv`` (results directory, runs with users): ``site, region, lat_deg, lon_deg, weight``.
- ``kv_transfers.csv`` (results directory, disaggregated serving): ``strategy, request,
  prefill_replica, decode_replica, layer, bytes, arrival_ns`` per KV message whole at the decode
  replica (layer = model.layers: the first output token).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from harness.errors import ResultsError, ScenarioError
from harness.formats.files import MAX_DATA_BYTES, MAX_INPUT_BYTES, read_text_file, show

ARRIVALS_HEADER = ("time_s", "prompt_tokens")
REQUEST_COLUMNS = ("request", "replica", "arrival_ns", "prompt_tokens", "output_tokens", "first_token_ns",
                   "end_ns", "ttft_ns", "tpot_ns", "e2e_ns", "queued_ns")
#: Columns after e2e_ns in runs with users; site and region are words, the others whole numbers.
USER_COLUMNS = ("site", "region", "serving_sat", "uplink_ns", "downlink_ns", "gsl_ns")
#: Columns before status with faults.recovery (fail-over, re-placement), whole numbers.
RECOVERY_COLUMNS = ("failovers", "replacements", "lost_ns")
_WORD_COLUMNS = ("site", "region", "status")
#: Longest prompt an arrivals file may give (the schema's ceiling of serving.prompt).
MAX_PROMPT_TOKENS = 65536


def read_arrivals_csv(path: Path, *, requests: int, max_output: int = 1 << 30):
    """``(time_s float64[R], prompt_tokens int32[R], output_tokens int32[R] or None)`` of an arrivals
    file, or ScenarioError naming the line."""
    text = read_text_file(path, "arrivals file", ScenarioError, MAX_INPUT_BYTES)
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    header = tuple(c.strip() for c in lines[0][1].split(",")) if lines else ()
    if header not in (ARRIVALS_HEADER, ARRIVALS_HEADER + ("output_tokens",)):
        raise ScenarioError(f"{path}: line 1 must be the header '{','.join(ARRIVALS_HEADER)}' or "
                            f"'{','.join(ARRIVALS_HEADER)},output_tokens'; add it")
    width = len(header)
    rows = lines[1:]
    if len(rows) != requests:
        raise ScenarioError(f"{path}: has {len(rows)} requests but 'traffic.requests' is {requests}; make them agree")
    times = np.empty(len(rows))
    prompts = np.empty(len(rows), dtype=np.int32)
    outputs = np.empty(len(rows), dtype=np.int32)
    for i, (n, line) in enumerate(rows):
        cells = line.split(",")
        try:
            if len(cells) != width:
                raise ValueError
            t, p = float(cells[0]), int(cells[1])
            o = int(cells[2]) if width == 3 else 1
        except ValueError:
            raise ScenarioError(f"{path}: line {n} is {show(line)}; expected '{','.join(header)}' (a number "
                                f"of seconds and whole numbers of tokens)") from None
        if not 1 <= o <= max_output:
            raise ScenarioError(f"{path}: line {n}: output_tokens must be in [1, {max_output}] "
                                f"(traffic.tokens_per_request); fix that line or raise tokens_per_request")
        outputs[i] = o
        if not (np.isfinite(t) and 0 <= t <= 1e8) or not 0 <= p <= MAX_PROMPT_TOKENS:
            raise ScenarioError(f"{path}: line {n}: time_s must be in [0, 1e8] and prompt_tokens in "
                                f"[0, {MAX_PROMPT_TOKENS}]; fix that line")
        if i and t < times[i - 1]:
            raise ScenarioError(f"{path}: line {n}: time {t:g} s is before the previous line's; sort the file by time")
        times[i], prompts[i] = t, p
    return times, prompts, (outputs if width == 3 else None)


def requests_csv(rows: dict[str, np.ndarray | list], order: list[str]) -> str:
    """requests.csv from per-strategy tables: ``rows[name]`` is an int64 [R, len(REQUEST_COLUMNS)]
    table, ``rows[name + ':status']`` its [R] status words and, with users, ``rows[name + ':users']``
    its USER_COLUMNS (a dict of [R] arrays)."""
    with_users = any(name + ":users" in rows for name in order)
    with_recovery = any(name + ":recovery" in rows for name in order)
    out = io.StringIO()
    out.write("strategy," + ",".join(REQUEST_COLUMNS + (USER_COLUMNS if with_users else ())
                                     + (RECOVERY_COLUMNS if with_recovery else ())) + ",status\n")
    for name in order:
        table, status = rows[name], rows[name + ":status"]
        extra = [[] for _ in status]
        if with_users:
            users = rows[name + ":users"]
            extra = zip(*(users[c].tolist() for c in USER_COLUMNS))
        recovery = rows[name + ":recovery"].tolist() if with_recovery else [[] for _ in status]
        for values, more, moved, word in zip(table.tolist(), extra, recovery, status):
            out.write(name + "," + ",".join(map(str, [*values, *more, *moved])) + "," + word + "\n")
    return out.getvalue()


def coverage_gaps_csv(gaps: list[tuple[str, float, float]]) -> str:
    """coverage_gaps.csv: ``site, start_s, end_s``."""
    return "site,start_s,end_s\n" + "".join(f"{site},{a:.9g},{b:.9g}\n" for site, a, b in gaps)


def read_requests_csv(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """requests.csv back into ``{strategy: {column: array}}`` (status as str), strictly."""
    text = read_text_file(path, "requests.csv", ResultsError, MAX_DATA_BYTES)
    lines = text.splitlines()
    header = ["strategy", *REQUEST_COLUMNS, "status"]
    with_users = ["strategy", *REQUEST_COLUMNS, *USER_COLUMNS, "status"]
    with_recovery = ["strategy", *REQUEST_COLUMNS, *RECOVERY_COLUMNS, "status"]
    if not lines or lines[0].split(",") not in (header, with_users, with_recovery):
        raise ResultsError(f"{path}: line 1 is not the header '{','.join(header)}' (or with "
                           f"{','.join(USER_COLUMNS)} before status); run the scenario again")
    header = lines[0].split(",")
    columns = header[1:]
    out: dict[str, dict[str, list]] = {}
    for n, line in enumerate(lines[1:], start=2):
        cells = line.split(",")
        if len(cells) != len(header):
            raise ResultsError(f"{path}: line {n} has {len(cells)} fields, the header {len(header)}; fix that line")
        try:
            values = [c if col in _WORD_COLUMNS else int(c) for col, c in zip(columns, cells[1:])]
        except ValueError:
            raise ResultsError(f"{path}: line {n} has a field that is not a whole number; fix that line") from None
        table = out.setdefault(cells[0], {c: [] for c in columns})
        for column, value in zip(columns, values):
            table[column].append(value)
    return {name: {c: np.array(v, dtype=str if c in _WORD_COLUMNS else np.int64) for c, v in cols.items()}
            for name, cols in out.items()}


def busy_csv(busy: dict[str, np.ndarray]) -> str:
    """satellite_busy.csv: ``strategy, sat, busy_ns`` (compute done for completed passes), satellites
    that did any work only."""
    out = io.StringIO()
    out.write("strategy,sat,busy_ns\n")
    for name, values in busy.items():
        for sat in np.flatnonzero(values):
            out.write(f"{name},{int(sat)},{int(values[sat])}\n")
    return out.getvalue()


KV_COLUMNS = ("request", "prefill_replica", "decode_replica", "layer", "bytes", "arrival_ns")


def kv_transfers_csv(rows: dict[str, np.ndarray]) -> str:
    """kv_transfers.csv (disaggregated serving): ``strategy, request, prefill_replica,
    decode_replica, layer, bytes, arrival_ns``, one row per KV message whole at the decode replica:
    layer l's KV cache of the request's prompt (``bytes``: its packets' payload), or, with layer =
    model.layers, the first output token."""
    out = io.StringIO()
    out.write("strategy," + ",".join(KV_COLUMNS) + "\n")
    for name, table in rows.items():
        for row in np.asarray(table, dtype=np.int64).tolist():
            out.write(name + "," + ",".join(str(v) for v in row) + "\n")
    return out.getvalue()


def read_busy_csv(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """satellite_busy.csv back into ``{strategy: (sat int64[], busy_ns int64[])}``, strictly."""
    text = read_text_file(path, "satellite_busy.csv", ResultsError, MAX_DATA_BYTES)
    lines = text.splitlines()
    if not lines or lines[0] != "strategy,sat,busy_ns":
        raise ResultsError(f"{path}: line 1 is not the header 'strategy,sat,busy_ns'; run the scenario again")
    out: dict[str, list] = {}
    for n, line in enumerate(lines[1:], start=2):
        cells = line.split(",")
        try:
            if len(cells) != 3:
                raise ValueError
            out.setdefault(cells[0], []).append((int(cells[1]), int(cells[2])))
        except ValueError:
            raise ResultsError(f"{path}: line {n} is not 'strategy,sat,busy_ns'; fix that line") from None
    return {name: (np.array([a for a, _ in v], dtype=np.int64), np.array([b for _, b in v], dtype=np.int64))
            for name, v in out.items()}


USER_SITES_HEADER = "site,region,lat_deg,lon_deg,weight"


def user_sites_csv(sites) -> str:
    """user_sites.csv from :class:`~harness.sites.UserSite` records."""
    return USER_SITES_HEADER + "\n" + "".join(f"{s.name},{s.region},{s.lat_deg!r},{s.lon_deg!r},{s.weight!r}\n"
                                              for s in sites)


def read_user_sites_csv(path: Path) -> dict[str, tuple[str, float, float, float]]:
    """user_sites.csv back into ``{site: (region, lat_deg, lon_deg, weight)}``, strictly."""
    text = read_text_file(path, "user_sites.csv", ResultsError, MAX_DATA_BYTES)
    lines = text.splitlines()
    if not lines or lines[0] != USER_SITES_HEADER:
        raise ResultsError(f"{path}: line 1 is not the header '{USER_SITES_HEADER}'; run the scenario again")
    out = {}
    for n, line in enumerate(lines[1:], start=2):
        cells = line.split(",")
        try:
            if len(cells) != 5:
                raise ValueError
            out[cells[0]] = (cells[1], float(cells[2]), float(cells[3]), float(cells[4]))
        except ValueError:
            raise ResultsError(f"{path}: line {n} is not '{USER_SITES_HEADER}'; fix that line") from None
    return out
