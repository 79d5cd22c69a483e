"""Shared test configuration: Hypothesis profiles.

``HYPOTHESIS_PROFILE=ci`` makes property runs reproducible: derandomised, with no
example database, and a failure prints the blob that replays it. Settings objects
built in test modules inherit the profile loaded here.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
