"""``python -m ecelerity.policy.lua``: the offline tester (see cli.py)."""
import sys

from .cli import main

sys.exit(main())
