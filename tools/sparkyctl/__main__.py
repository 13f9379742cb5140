"""``python -m tools.sparkyctl``: the same as the ``sparkyctl`` command."""

from __future__ import annotations

from tools.sparkyctl.cli import main

if __name__ == "__main__":
    main()
