"""Make the repository importable (``ecelerity``, ``tests.helpers``) without installing it.

Nothing else belongs here: shared fixtures live in plain modules under tests/helpers/.
"""
import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
