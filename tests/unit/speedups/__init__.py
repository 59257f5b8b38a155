"""Tests of ecelerity/_speedups/ (a package so their basenames never clash with others)."""
