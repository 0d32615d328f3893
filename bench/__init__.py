"""Benchmarks of the bridge against the emulators on loopback; `python -m bench` prints one JSON object per line."""
