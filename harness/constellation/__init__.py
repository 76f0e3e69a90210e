"""The constellation step: every satellite's SGP4 state at every snapshot.

- :mod:`.walker`: Walker delta and star shells from orbital elements (the :class:`Constellation`
  every later step takes, and the physical constants).
- :mod:`.tle`: constellations read from TLE files, and their ISL plans.
- :mod:`.sun`: which satellites are sunlit at each snapshot (skyfield's test, DE421).
- :mod:`.sun_synchronous`: the inclination and node of sun-synchronous Walker shells.

Layer 4: imports scenario, cxx and below (see :data:`harness.LAYERS`).
"""

from harness.constellation.walker import (EARTH_RADIUS_KM, MU_EARTH_KM3_S2,  # noqa: F401 (public face)
                                          SPEED_OF_LIGHT_M_S, Constellation, orbital_period_s, subsatellite_points_deg,
                                          walker_constellation)
