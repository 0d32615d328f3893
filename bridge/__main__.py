"""`python -m bridge` runs the `bridge` command."""

from bridge.cli import main

# Guarded: a process the bridge spawns (the worker, adapters/worker_process.py) imports this module again as its
# parent's main module, and must not run a second bridge.
if __name__ == "__main__":
    raise SystemExit(main())
