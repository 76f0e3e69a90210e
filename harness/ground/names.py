"""The names the scenario schema accepts for ground choices (the registries in :mod:`.geometry` and
:mod:`.gsl` hold the same names; a test checks they agree). Imports nothing heavy."""

#: Earth conventions (``ground.convention``), see :data:`harness.ground.geometry.CONVENTIONS`.
GROUND_CONVENTIONS = ("wgs84-ut1", "wgs72-utc", "pyephem")
#: GSL rules (``ground.gsl_rule``), see :data:`harness.ground.gsl.GSL_RULES`.
GSL_RULE_NAMES = ("min_elevation", "max_length")
