"""body (RFC 5173): match keys against the message body, :raw, :content or :text.

Registered into compiler.py. Reads only MessageView.body_raw/body_parts; never
decodes more than the message holds, never writes.
"""
from __future__ import annotations

from .runtime import Runtime
from .spec import Args, Spec


def _body(args: Args, env):
    keys = env.strings(args.positional[0])
    content = env.strings(args.tags["content"]) if "content" in args.tags else None
    raw = "raw" in args.tags

    def body(rt: Runtime) -> bool:
        if raw:
            values = [rt.message.body_raw()]
        else:
            values = rt.message.body_parts(content(rt) if content is not None else None)
        hit, captures = args.matcher.match(values, keys(rt))
        if hit and args.matcher.captures_values:
            rt.set_matches(captures)
        return hit
    return body


TESTS = {
    "body": Spec(_body, tags={"raw": "", "content": "strings", "text": ""},
                 positional=("strings",), match=True, extension="body",
                 exclusive=(("raw", "content", "text"),)),
}
