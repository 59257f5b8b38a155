"""Control channel: the console wire protocol, the command registry, the listener, ec_console.

protocol.py (framing, documented there) -> server.py (Control_Listener sockets, one
greenlet per connection) -> registry.py (command name -> handler, longest-prefix
match) -> commands_core.py and every subsystem's own commands. client.py and
console.py are the operator's side (ec_console). Nothing here owns configuration or
mail state: handlers ask the App.
"""
