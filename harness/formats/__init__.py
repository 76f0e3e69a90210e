"""Every on-disk format of the harness and its strict reader, in one place.

| file | format | written and read by |
|---|---|---|
| scenario YAML | the schema of :mod:`harness.scenario` | :func:`harness.scenario.load_scenario` (through :func:`read_yaml_file`) |
| sweep YAML | ``name``, ``base``, ``set``, ``grid`` | :func:`harness.run.sweep.load_sweep` (through :func:`read_yaml_file`) |
| placement plan (.json) | :mod:`harness.formats.plan` | :func:`plan.plan_json`, :func:`plan.parse_plan` |
| activation trace (.npy, .csv) | :mod:`harness.formats.activation_trace` | :func:`activation_trace.write_trace`, :func:`activation_trace.read_trace` |
| results directory | :mod:`harness.formats.results` | :func:`harness.formats.results.write_files`, :func:`harness.formats.results.read_results` |
| ``network.npz`` (a run's positions and ISLs per snapshot, for the report) | :mod:`harness.formats.network` | :func:`network.network_npz_bytes`, :func:`network.read_network_npz` |
| TopoJSON (the maps' coastlines) | :mod:`harness.formats.topojson` | :func:`topojson.read_topojson_lines` |
| topology export (.npz) | :mod:`harness.formats.results` | :func:`harness.formats.results.write_topology_npz` |
| TLE file, ``plane,slot`` sidecar, ``a b`` ISL list | :mod:`harness.formats.tle` | :func:`tle.read_tle_file`, :func:`tle.write_tle_file`, :func:`tle.read_slots_file`, :func:`tle.read_isl_file` |
| ground paths CSV (``harness paths``) | :mod:`harness.formats.ground_paths` | :func:`ground_paths.write_paths_csv`, :func:`ground_paths.read_paths_csv` |
| city set CSV (``users.cities``) | :mod:`harness.formats.cities` | :func:`cities.read_cities_csv` |
| ``requests.csv``, ``coverage_gaps.csv``, ``user_sites.csv``, ``kv_transfers.csv`` (serving, users) | :mod:`harness.formats.requests` | :func:`requests.requests_csv`, :func:`requests.kv_transfers_csv`, :func:`requests.read_requests_csv`, :func:`requests.coverage_gaps_csv`, :func:`requests.user_sites_csv`, :func:`requests.read_user_sites_csv` |

Every reader is strict: a missing, oversized, binary, non-UTF-8 or malformed file is one line that
names the file, the field and the fix (:mod:`harness.formats.files`), and nothing is unpickled.
"""

from harness.formats.files import (MAX_CONFIG_BYTES, MAX_DATA_BYTES, RESULTS_ROOT, YamlLoader,  # noqa: F401
                                   default_results_dir, read_json_file, read_text_file, read_yaml_file, safe_name, show)
