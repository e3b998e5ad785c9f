"""`python -m chatgpt_browser` runs the CLI."""

from .cli import main

raise SystemExit(main())
