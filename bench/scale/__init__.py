"""`make bench SECTIONS=scale`: one simulated day of 10k, 100k and 1M tasks (see sim.py)."""

from bench.scale.measure import measure

__all__ = ["measure"]
