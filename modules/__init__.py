"""Loadable modules, each enabled by its stanza in ecelerity.conf (see ecelerity/modules.py)."""
