"""Flip ``implemented=True`` on option declarations in ecelerity/config/options_*.py.

Usage: python tools/dev/mark_implemented.py NAME [NAME...]
A development helper for the lead: edits the opt("name", ...) call in place.
"""
import glob
import re
import sys


def close_paren(src: str, start: int) -> int:
    depth, i, quote = 0, start, None
    while i < len(src):
        c = src[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced")


def main(names: list[str]) -> int:
    missing = set(n.lower() for n in names)
    for path in sorted(glob.glob("ecelerity/config/options_*.py")):
        src = open(path).read()
        for name in list(missing):
            m = re.search(r'opt\(\s*"%s"' % re.escape(name), src, re.IGNORECASE)
            if not m:
                continue
            end = close_paren(src, m.start() + 3)
            call = src[m.start():end]
            if "implemented=True" not in call:
                tail = src[:end].rstrip()
                sep = "" if tail.endswith(",") else ","
                src = tail + sep + " implemented=True" + src[end:]
            missing.discard(name)
        open(path, "w").write(src)
    for n in sorted(missing):
        print("not found:", n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
