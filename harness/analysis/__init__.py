"""The analysis step: pure functions of a results directory's contents.

- :mod:`.summary`: latency summaries and tables (``summary.json``, ``harness analyze``).
- :mod:`.plots`: the PNG plots of a run.
- :mod:`.paper_comparison`: a sweep against the paper's four numbers (``harness paper``).
- :mod:`.serving`, :mod:`.serving_summary`: TTFT, TPOT, utilisation and requests.csv of serving runs.
- :mod:`.users`: per-region figures and maps of users on the ground.

Layer 9: imports simulate and below (see :data:`harness.LAYERS`).
"""
