"""The simulation step: a placed model's tokens over the time-varying network, by two engines that
take the same inputs.

- :mod:`.packet`: the ns-3 packet engine (every hidden state as real packets, in C++).
- :mod:`.analytic`: the closed-form engine (the same timeline without queueing), which the tests
  hold the packet engine to.

Layer 8: imports placement and below (see :data:`harness.LAYERS`).
"""
