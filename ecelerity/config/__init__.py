"""Configuration: the ecelerity.conf language, the option registry and scope fallback.

Journey of a configuration file:
  lexer.py (tokens with file:line:col) -> parser.py (tree.py nodes, includes spliced)
  -> validate.py (scope grammar, option registry, value types; errors and warnings)
  -> resolver.py (Config: "the value of option X here", scope fallback, cached)
Tools: tools.py (validate_config, ec_dump_config), dump.py (XML).

Everything else in ecelerity reads configuration only through a resolver.Config.
"""
