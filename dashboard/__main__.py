"""``python -m dashboard``: the command line (see dashboard.cli)."""

from dashboard.cli import main

raise SystemExit(main())
