"""python -m bench → runner.main()."""

from __future__ import annotations

import sys

from bench.runner import main

# Guarded: the bridge's worker process (spawned by the tick bench) imports this module again, and must not rerun it.
if __name__ == "__main__":
    sys.exit(main())
