"""The ground segment: sites on the Earth, their geometry to the satellites, ground-satellite link
(GSL) rules and ground-to-ground paths.

- :mod:`.geometry`: Earth conventions (ellipsoid, Earth rotation), satellite positions in the
  Earth-fixed frame per snapshot, slant range and elevation, vectorised over satellites and snapshots.
- :mod:`.gsl`: which satellites a site may link to (:data:`~.gsl.GSL_RULES`).
- :mod:`.paths`: the shortest ground -> satellites -> ground path of site pairs, per snapshot.
- :mod:`.users`: users on the ground: their sites (``users`` section, ``data/world_cities.csv``),
  serving satellites and coverage gaps, and the network extended by ground nodes and their GSLs.
"""

from harness.network.ground.geometry import (CONVENTIONS, elevation_rad, satellites_ecef_m,  # noqa: F401
                                             site_positions_m, slant_range_m)
from harness.network.ground.gsl import GSL_RULES, gsl_candidates  # noqa: F401
from harness.sites import Site  # noqa: F401
