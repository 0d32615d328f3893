"""`python -m bridge` runs the `bridge` command."""

from bridge.cli import main

raise SystemExit(main())
