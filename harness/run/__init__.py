"""Driving the pipeline: a scenario end to end (:mod:`.pipeline`), sweeps of scenarios
(:mod:`.sweep`, local or on Dask), the memory estimate checked before a run (:mod:`.estimate`) and
the environment report (:mod:`.doctor`).

Layer 10: imports every step below (see :data:`harness.LAYERS`); only the CLI imports it.
"""
