"""`python -m bot` is the same as the `kaohe` command."""

from bot.cli import main

raise SystemExit(main())
