"""Unit tests of ecelerity/policy/sieve/."""
