"""If/elsif/else chains as single closures, shaped for the common cases.

Called by compiler.py once a chain is complete. Purely structural: the tests and
blocks are already compiled; never looks at a message or the runtime's state. Each
chain closure records its branches (codegen.shape) so codegen.py can emit it as a
native if/elif/else.
"""
from __future__ import annotations

from typing import Callable

from .codegen import shape
from .runtime import Runtime

Block = tuple[Callable[[Runtime], None], ...]


def sequence(block: Block) -> Callable[[Runtime], None]:
    """A block as one callable (no loop for the usual one-command block)."""
    if len(block) == 1:
        return block[0]

    def run_block(rt: Runtime) -> None:
        for command in block:
            command(rt)
    return run_block


def specialise_if(branches: list) -> Callable[[Runtime], None]:
    """An if/elsif/else chain as one closure, specialised for the common shapes."""
    if len(branches) == 1 and branches[0][0] is None:
        return sequence(branches[0][1])
    return shape(_specialise_if(branches), "if", tuple((t, tuple(b)) for t, b in branches))


def _specialise_if(branches: list) -> Callable[[Runtime], None]:
    if len(branches) == 1:
        test, body = branches[0][0], sequence(branches[0][1])
        if test is None:
            return body

        def run_if(rt: Runtime) -> None:
            if test(rt):
                body(rt)
        return run_if
    if len(branches) == 2 and branches[1][0] is None:
        test, body, other = branches[0][0], sequence(branches[0][1]), sequence(branches[1][1])

        def run_if_else(rt: Runtime) -> None:
            if test(rt):
                body(rt)
            else:
                other(rt)
        return run_if_else
    chain = tuple((test, sequence(block)) for test, block in branches)

    def run_chain(rt: Runtime) -> None:
        for test, body in chain:
            if test is None or test(rt):
                body(rt)
                return
    return run_chain


