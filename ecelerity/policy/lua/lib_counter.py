"""msys.counter.*: named in-process counters shared by every script of a runtime.

Installed by libraries.py. A counter handle is its name (a string), so
``local c = msys.counter.open("spam"); msys.counter.inc(c)`` and
``msys.counter.inc("spam")`` are the same. Subset: open(name) -> name,
inc(c) -> new value, add(c, n) -> new value (n truncated toward zero; nil counts 1),
read(c) -> value (0 when never set), reset(c) -> 0, unlink(name) -> true.
Implemented in Lua (``LUA_SOURCE``, one table of counts per runtime, in the Lua heap):
``msys.counter.inc`` is on policies' per-message path and a Lua -> Python crossing
costs more than the whole operation. Nothing on the Python side reads the counts.
Process memory only: not persistent, not shared between processes. Never does I/O.
"""
from __future__ import annotations

from typing import Callable

FUNCTIONS: dict[str, Callable] = {}  # nothing in Python: see LUA_SOURCE

# Run once per runtime by libraries.install_all on the trusted (unsandboxed) state; it
# uses only what sandbox.py leaves in the real globals. Returns name -> function.
# Errors name the function and are raised at the script's call site (level 2), like
# the Python library functions' errors.
LUA_SOURCE = r"""
local type, tonumber, tostring, error = type, tonumber, tostring, error
local floor, ceil = math.floor, math.ceil
local counts = {}

local function name_of(name, fname)
  if type(name) ~= "string" then
    error("msys.counter." .. fname .. ": bad arguments (a counter is a name string, not "
          .. type(name) .. ")", 3)
  end
  return name
end

local function amount_of(amount)
  if amount == nil then return 1 end
  local n = tonumber(amount)
  if n == nil or n ~= n or n == 1/0 or n == -1/0 then
    error("msys.counter.add: not a number: " .. tostring(amount), 3)
  end
  if n >= 0 then return floor(n) end
  return ceil(n)
end

local function add(name, amount)
  name = name_of(name, "add")
  local value = (counts[name] or 0) + amount_of(amount)
  counts[name] = value
  return value
end

return {
  ["msys.counter.open"] = function(name)
    name = name_of(name, "open")
    if counts[name] == nil then counts[name] = 0 end
    return name
  end,
  ["msys.counter.add"] = add,
  ["msys.counter.inc"] = function(name)
    name = name_of(name, "inc")
    local value = (counts[name] or 0) + 1
    counts[name] = value
    return value
  end,
  ["msys.counter.read"] = function(name) return counts[name_of(name, "read")] or 0 end,
  ["msys.counter.reset"] = function(name) counts[name_of(name, "reset")] = 0 return 0 end,
  ["msys.counter.unlink"] = function(name) counts[name_of(name, "unlink")] = nil return true end,
}
"""
LUA_FUNCTIONS = ("msys.counter.open", "msys.counter.add", "msys.counter.inc",
                 "msys.counter.read", "msys.counter.reset", "msys.counter.unlink")
