"""Shared test configuration: hypothesis profiles, chosen with the HYPOTHESIS_PROFILE env var.

- ``ci`` (default): 60 examples, derandomised so every run tries the same cases.
- ``deep``: 10,000 random examples, for a long search before a release.
- ``dev``: 20 examples, for a fast edit-test loop.
``print_blob`` makes a failing example print the ``@reproduce_failure`` line that replays it.
"""

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("deep", max_examples=10_000, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=20)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
