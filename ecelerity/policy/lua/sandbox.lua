-- Trusted bootstrap: builds the sandbox every policy script runs in.
-- Run once per LuaRuntime by sandbox.py, with the real globals (debug, io, os...)
-- still reachable; it captures what it needs in locals, then the Python side
-- wipes the dangerous globals. Nothing here is reachable from a script except
-- through the closures it hands out. Arguments: a table of Python callables
-- and limits (see sandbox.py: _bootstrap_args).
local py = ...

local debug_sethook, debug_traceback = debug.sethook, debug.traceback
local co_create, co_wrap, co_running = coroutine.create, coroutine.wrap, coroutine.running
local co_resume, co_status, co_yield = coroutine.resume, coroutine.status, coroutine.yield
local real_load, real_pcall, real_xpcall = load, pcall, xpcall
local real_error, real_type, real_tostring = error, type, tostring
local real_setmetatable, real_getmetatable, real_rawget = setmetatable, getmetatable, rawget
local collect, select, pairs = collectgarbage, select, pairs
local string_rep, string_byte, table_concat = string.rep, string.byte, table.concat
local unpack = unpack or table.unpack
local is_jit = real_type(jit) == "table"

local HOOK_EVERY = py.hook_every
local MEMORY_KB = py.memory_limit_kb            -- 0 = no Lua-side check (allocator enforces it)
local MAX_STRING = py.max_string_bytes

-- One budget box per running call, shared by the coroutines that call spawns.
local budgets = real_setmetatable({}, { __mode = "k" })

local function over_budget(box)
  return box ~= nil and box.left < 0
end

local function hook()
  local co = co_running()
  local box = co and budgets[co]
  if box == nil then return end
  box.left = box.left - 1
  if box.left < 0 then
    real_error("instruction budget exceeded (" .. box.total .. " x " .. HOOK_EVERY
               .. " instructions)", 2)
  end
  if MEMORY_KB > 0 and collect("count") > MEMORY_KB then
    collect("collect")
    if collect("count") > MEMORY_KB then
      box.left = -1                              -- sticky: the call is over
      real_error("memory limit exceeded (" .. MEMORY_KB .. " KiB)", 2)
    end
  end
end

local function start_budget(box)
  budgets[co_running()] = box
  debug_sethook(hook, "", HOOK_EVERY)            -- per-thread in Lua 5.4, global in LuaJIT
end

local function traceback(err)
  if real_type(err) ~= "string" then err = real_tostring(err) end
  return debug_traceback(err, 2)
end

-- runner(ticks, f, ...) -> true, results... | false, message-with-traceback.
-- Python resumes it as a fresh coroutine per call, so greenlets never share a Lua stack.
local function runner(ticks, f, ...)
  start_budget({ left = ticks, total = ticks })
  return real_xpcall(f, traceback, ...)
end

-- worker(ticks, f, ...): a reusable runner. It yields (DONE, true, results...) or
-- (DONE, false, message) after each call, then waits for the next (ticks, f, ...).
-- DONE is a Python object no script can reach, so Python can tell a finished call
-- from a script's own coroutine.yield (that worker is then thrown away).
-- The count hook is installed once per worker (it stays on that thread in Lua 5.4,
-- and is global in LuaJIT) and its budget box is refilled for each call: a call
-- costs one resume, no allocation and no sethook.
--
local WORKER_DONE = py.worker_done
local function next_call(box, ticks, f, ...)
  box.left, box.total = ticks, ticks
  return next_call(box, co_yield(WORKER_DONE, real_xpcall(f, traceback, ...)))
end
local function worker(ticks, f, ...)
  local box = { left = ticks, total = ticks }
  start_budget(box)
  return next_call(box, co_yield(WORKER_DONE, real_xpcall(f, traceback, ...)))
end

-- hook_worker(ticks, editable, f, ...): the worker of the validation hooks (live_calls.py).
-- It yields (DONE, lines, true, first result) or (DONE, lines, false, message): the
-- hooks need only the first result, so no vararg results pass through.
-- Header appends recorded on the Lua side: a hook call is given the msg proxy whose
-- content it may edit (``editable``: from DATA on; nil otherwise), kept in its budget
-- box (box.msg). msg:header(name, value [, "append"]) on that very proxy, with a valid
-- field name and a value Python would write as is (printable ASCII, no CR/LF, no "=?":
-- core.headers make_field's plain case), becomes the line "name: value" in `pending`
-- instead of a call into Python. The lines (joined by "\n", or nil) go back with the
-- call's yield, and before ANY call from Lua into Python (proxy methods, library
-- functions: flush_pending), so Python never sees the message without them: the same
-- appends, in the same order, as if each had been a call (live_message.py
-- LiveMessage.absorb). A greenlet can only switch inside a Python call, so the lines
-- pending always belong to the running call.
local py_absorb = py.absorb
local hidden = real_setmetatable({}, { __mode = "k" })  -- proxy -> its Python object/number
local pending, pending_box = nil, nil
local function flush_pending()
  local lines, box = pending, pending_box
  pending, pending_box = nil, nil
  -- lines of a call that never finished (its worker was dropped) go with it
  if budgets[co_running()] ~= box then return end
  local obj = box.msg ~= nil and hidden[box.msg]
  if obj then py_absorb(obj, table_concat(lines, "\n")) end
end
local function next_hook(box, ticks, editable, f, ...)
  box.left, box.total, box.msg = ticks, ticks, editable
  local ok, first = real_xpcall(f, traceback, ...)
  box.msg = nil
  local lines = nil
  if pending ~= nil and pending_box == box then
    lines = table_concat(pending, "\n")
    pending, pending_box = nil, nil
  end
  return next_hook(box, co_yield(WORKER_DONE, lines, ok, first))
end
local function hook_worker(ticks, editable, f, ...)
  local box = { left = ticks, total = ticks }
  start_budget(box)
  return next_hook(box, ticks, editable, f, ...)
end

-- pcall/xpcall that cannot swallow an exhausted budget.
local function guard(box, ok, ...)
  if not ok and over_budget(box) then real_error((...), 0) end
  return ok, ...
end
local function safe_pcall(f, ...)
  return guard(budgets[co_running()], real_pcall(f, ...))
end
local function safe_xpcall(f, handler, ...)
  local box = budgets[co_running()]
  return guard(box, real_xpcall(f, function(e)
    if over_budget(box) then return e end
    return handler(e)
  end, ...))
end

-- Coroutines made by scripts inherit the caller's budget and hook.
local function adopt(f)
  local box = budgets[co_running()]
  return function(...)
    start_budget(box or { left = 0, total = 0 })
    return f(...)
  end
end
local safe_coroutine = {
  create = function(f) return co_create(adopt(f)) end,
  wrap = function(f) return co_wrap(adopt(f)) end,
  resume = co_resume, yield = co_yield, status = co_status, running = co_running,
  isyieldable = coroutine.isyieldable,
}

local function safe_rep(s, n, sep)
  local total = #real_tostring(s) * (n or 0) + (sep and #real_tostring(sep) * (n or 0) or 0)
  if total > MAX_STRING then
    real_error("string.rep result too large (" .. total .. " bytes)", 2)
  end
  return string_rep(s, n, sep)
end
local function safe_concat(t, sep, i, j)
  i = i or 1
  j = j or #t
  local total, seplen = 0, sep and #sep or 0
  for k = i, j do
    local v = t[k]
    total = total + (real_type(v) == "string" and #v or 24) + seplen
    if total > MAX_STRING then
      real_error("table.concat result too large (> " .. MAX_STRING .. " bytes)", 2)
    end
  end
  return table_concat(t, sep, i, j)
end

-- The string library is shared with the string metatable, so patch it in place.
string.dump = nil
string.rep = safe_rep
local string_mt = real_getmetatable("")
string_mt.__metatable = "locked"

local function copy(src, names)
  local out = {}
  for _, name in pairs(names) do out[name] = src[name] end
  return out
end

local function text_only(chunk)
  if real_type(chunk) == "function" then
    local parts = {}
    while true do
      local piece = chunk()
      if piece == nil or piece == "" then break end
      parts[#parts + 1] = piece
    end
    chunk = table_concat(parts)
  end
  if real_type(chunk) ~= "string" then real_error("load: chunk must be a string", 3) end
  if string_byte(chunk, 1) == 27 then
    real_error("load: binary (precompiled) chunks are not allowed", 3)
  end
  return chunk
end

local base = {}                                 -- shared, read through each script's env

local function load_in(env, chunk, name)
  -- LuaJIT and 5.4 both take (chunk, name, mode, env)
  return real_load(text_only(chunk), name, "t", env)
end

local function safe_load(chunk, name, mode, env)
  if mode ~= nil and mode ~= "t" then
    return nil, "load: only text chunks (mode \"t\") are allowed"
  end
  return load_in(env or base, chunk, name or "=(load)")
end

local function safe_collectgarbage(opt)
  if opt == nil or opt == "count" then return collect("count") end
  real_error("collectgarbage('" .. real_tostring(opt) .. "') is not allowed", 2)
end

local function print_to_paniclog(...)
  local n = select("#", ...)
  local parts = {}
  for k = 1, n do parts[k] = real_tostring((select(k, ...))) end
  py.print(table_concat(parts, "\t"))
end

for _, name in pairs({ "assert", "error", "ipairs", "next", "pairs", "select", "tonumber",
                       "tostring", "type", "rawequal", "rawget", "rawset", "rawlen",
                       "setmetatable", "getmetatable", "_VERSION" }) do
  base[name] = _G[name]
end
base.unpack = unpack
base.pcall, base.xpcall = safe_pcall, safe_xpcall
base.load, base.loadstring = safe_load, safe_load
base.collectgarbage = safe_collectgarbage
base.print = print_to_paniclog
base.coroutine = safe_coroutine
base.string = string
base.table = copy(table, { "insert", "remove", "sort", "unpack", "pack", "move", "maxn" })
base.table.concat = safe_concat
base.math = copy(math, { "abs", "ceil", "floor", "fmod", "huge", "max", "min", "modf", "pi",
                         "random", "randomseed", "sqrt", "exp", "log", "log10", "pow", "sin",
                         "cos", "tan", "asin", "acos", "atan", "atan2", "tointeger", "type",
                         "maxinteger", "mininteger", "ult", "frexp", "ldexp", "sinh",
                         "cosh", "tanh", "deg", "rad" })
base.os = copy(os, { "time", "clock", "date", "difftime" })
if utf8 then base.utf8 = utf8 end
if bit then base.bit = bit end

-- Proxies: Lua tables standing for Python objects (vctx, msg, ac...). The Python
-- object lives only in `hidden`, so a script can never reach its attributes.
local classes = {}
-- py_fields (optional): name -> getter(obj), read as proxy.name (part.child, part.next).
-- dual (optional): method names also usable as proxy.name() (msg.id() as well as msg:id()).
-- Each Python method comes guarded (sandbox.py guard_method): a Python exception comes
-- back as (PY_ERROR, "class:method: message"), raised here as a plain string error at
-- the script's call site (scripts never receive Python exception objects, even through
-- pcall). No pcall and no vararg packing per call: the guard does the catching.
-- hidden[proxy] is the Python object, or a number the guard resolves (a handle,
-- sandbox.py hold/release: proxies of short-lived objects cost no Python object in Lua).
-- A Python answer (PY_LIST, v1, v2, ...) is the array {v1, v2, ...} built here (msg:header:
-- a table made from Python costs a table_from crossing).
local PY_ERROR, PY_LIST = {}, {}
local class_methods = {}  -- class name -> its methods table (defer_appends)
local rawequal = rawequal
local function raise_py(first, ...)
  if first == PY_ERROR then real_error((...), 2) end
  if rawequal(first, PY_LIST) then return { ... } end
  return first, ...
end
local function make_class(class_name, py_methods, py_fields, dual)
  local methods = {}
  for name, f in pairs(py_methods) do
    local label = class_name .. ":" .. name
    methods[name] = function(self, ...)
      local obj = hidden[self]
      if obj == nil then
        real_error(label .. ": call it with ':' on a " .. class_name, 2)
      end
      if pending ~= nil then flush_pending() end
      return raise_py(f(obj, ...))
    end
  end
  local index = methods
  if py_fields ~= nil or dual ~= nil then
    local fields, duals = py_fields or {}, dual or {}
    index = function(self, key)
      if duals[key] then
        local f = methods[key]
        return function(maybe_self, ...)
          if maybe_self == self or maybe_self == nil then return f(self, ...) end
          return f(self, maybe_self, ...)
        end
      end
      local method = methods[key]
      if method ~= nil then return method end
      local getter = fields[key]
      if getter ~= nil then
        if pending ~= nil then flush_pending() end
        return getter(hidden[self])
      end
      return nil
    end
  end
  local mt = { __index = index, __metatable = class_name,
               __tostring = function() return class_name end }
  classes[class_name] = mt
  class_methods[class_name] = methods
  return function(obj)
    local proxy = real_setmetatable({}, mt)
    hidden[proxy] = obj
    return proxy
  end
end
-- Two proxies for one crossing from Python (a session's vctx and ac).
local function make_two(make_a, obj_a, make_b, obj_b)
  return make_a(obj_a), make_b(obj_b)
end
-- msg:header appends on the call's editable msg are recorded (see flush_pending above).
local string_find = string.find
local function recordable(name, value, mode, ...)
  return real_type(value) == "string" and value ~= "" and real_type(name) == "string"
    and (mode == nil or mode == "append") and select("#", ...) == 0
    and string_find(name, "^[!-9;-~]+$") ~= nil
    and string_find(value, "[\r\n\128-\255]") == nil
    and string_find(value, "=?", 1, true) == nil
end
local function defer_appends(class_name)
  local methods = class_methods[class_name]
  local py_header = methods.header
  methods.header = function(self, ...)
    if select("#", ...) >= 2 then
      local box = budgets[co_running()]
      if box ~= nil and box.msg ~= nil and rawequal(box.msg, self) and recordable(...) then
        if pending == nil then
          pending, pending_box = {}, box
        elseif pending_box ~= box then  -- never expected (flushed before any switch)
          flush_pending()
          pending, pending_box = {}, box
        end
        local name, value = ...
        pending[#pending + 1] = name .. ": " .. value
        return true
      end
    end
    return py_header(self, ...)
  end
end

local function class_of(v)
  if real_type(v) == "table" then
    local mt = real_getmetatable(v)
    if real_type(mt) == "string" and classes[mt] then return mt end
  end
  return nil
end

local function new_env(script_name)
  local env = real_setmetatable({}, { __index = base })
  env._G = env
  env._SCRIPT = script_name
  return env
end

-- Python library functions report failure as (PY_ERROR, message): raise it here, as a
-- plain string error located at the script's call site.
local function wrap_py(f)
  return function(...)
    if pending ~= nil then flush_pending() end
    return raise_py(f(...))
  end
end
-- wrap_packed: a Python function answering nil, a finished value (table), or a flat
-- (n, [0], [1], ..., [n]) that becomes the table {[0] = ..., ...} here (msys.pcre.match:
-- building the captures table in Lua costs less than building it from Python).
local function packed(first, ...)
  if first == PY_ERROR then real_error((...), 2) end
  if real_type(first) ~= "number" then return first end
  local out = { [0] = (...) }
  for i = 1, first do out[i] = (select(i + 1, ...)) end
  return out
end
local function wrap_packed(f)
  return function(...)
    if pending ~= nil then flush_pending() end
    return packed(f(...))
  end
end

return {
  PY_ERROR = PY_ERROR, PY_LIST = PY_LIST, wrap_py = wrap_py, wrap_packed = wrap_packed, base = base, runner = runner, worker = worker,
  hook_worker = hook_worker,
  load_in = load_in, new_env = new_env,
  make_class = make_class, make_two = make_two, class_of = class_of, is_jit = is_jit,
  defer_appends = defer_appends,
  class_metatable = function(name) return classes[name] end,
}
