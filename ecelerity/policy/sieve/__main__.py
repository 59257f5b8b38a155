"""``python -m ecelerity.policy.sieve``: entry point of the offline Sieve tester (cli.py)."""
import sys

from .cli import main

sys.exit(main())
