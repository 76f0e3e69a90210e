"""The network step: which laser ISLs are up at each snapshot and what they cost (:mod:`.topology`),
shortest-delay routes over them (:mod:`.routes`, the C++ engine's Python face), link arithmetic as
ns-3 times it (:mod:`.links`), and the ground segment: sites, ground-satellite links, users and
ground-to-ground paths (:mod:`.ground`). A long run's per-snapshot state lives in files that its
readers hold a window of snapshots at a time (:mod:`.spill`).

Layer 5: imports constellation and below (see :data:`harness.LAYERS`).
"""
