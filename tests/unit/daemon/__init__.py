"""Unit tests of ecelerity/daemon/ (a package so test module names never clash across directories)."""
