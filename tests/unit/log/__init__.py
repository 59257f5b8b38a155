"""Unit tests of ecelerity/log/ (a package so test module names never clash across directories)."""
