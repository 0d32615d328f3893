"""python -m bench → runner.main()."""

from __future__ import annotations

import sys

from bench.runner import main

sys.exit(main())
