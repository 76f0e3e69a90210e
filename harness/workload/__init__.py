"""The workload step: what the model asks of the network.

- :mod:`.compute`: per-token FLOP and compute times of each component (gateway, expert, LM head,
  attention shards), and the roofline's memory side.
- :mod:`.activations`: which experts each token activates (synthetic generator or a trace file).
- :mod:`.traffic`: requests: arrivals, prompt and output lengths, model replica choice, prefill.

Layer 6: imports network and below (see :data:`harness.LAYERS`).
"""
