"""The public face of :mod:`harness.run` for notebooks and scripts, under the path users already
import (``from harness.pipeline import run_scenario``); the code lives in :mod:`harness.run`."""

from harness.run.pipeline import *  # noqa: F401,F403 (re-exported)
from harness.run.pipeline import __all__  # noqa: F401
