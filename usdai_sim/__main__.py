"""``python -m usdai_sim`` runs the command line."""

from usdai_sim.cli import main

raise SystemExit(main())
