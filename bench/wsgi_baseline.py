"""``wsgi:app`` plus the bench's baseline route, for the throughput run (bench/throughput.py)."""

from bench.run import add_baseline_route
from wsgi import app

add_baseline_route(app)
