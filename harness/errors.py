"""The harness's own exception types.

A ``HarnessError`` is a user's mistake or an impossible request (a malformed scenario, a missing
file, a placement that does not fit). The CLI prints its message as one line and exits 1; its text
must name the problem and the fix.
"""


class HarnessError(Exception):
    """A problem the user can fix; the message says what it is and how."""


class ScenarioError(HarnessError):
    """The scenario file is missing, malformed or inconsistent."""


class PlacementError(HarnessError):
    """A placement cannot be made (too few satellites, an unknown strategy, a bad plan file)."""


class TraceError(HarnessError):
    """An activation trace file is missing or malformed."""


class BuildError(HarnessError):
    """The C++ ns-3 module could not be built or loaded."""


class ResultsError(HarnessError):
    """A results directory (for ``harness analyze``) is missing a file or holds a malformed one."""


class SweepError(HarnessError):
    """A sweep file is malformed, or some of its points failed."""
