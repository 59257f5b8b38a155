"""Unit tests of ecelerity/control/ (a package so test module names never clash across directories)."""
