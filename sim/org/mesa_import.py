"""Import Mesa without its start-up cost of reading source files.

Mesa 3.3 names its loggers at import with `inspect.stack()` and `inspect.getouterframes()`,
which read the source of every frame on the import stack and, for each frozen importlib
frame, scan every loaded module: a quarter to half a second when Mesa is imported lazily
by a command with polars, numba and scipy already loaded (issue 13). Mesa only needs each
frame and its function name, so during the import both are given without source lines.
"""

from __future__ import annotations

import inspect
import sys


def _frames(frame, context: int = 1) -> list[inspect.FrameInfo]:
    found = []
    while frame is not None:
        code = frame.f_code
        found.append(
            inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None)
        )
        frame = frame.f_back
    return found


def _import_mesa():
    if "mesa" in sys.modules:
        return sys.modules["mesa"]
    stack, outer = inspect.stack, inspect.getouterframes
    inspect.stack = lambda context=1: _frames(sys._getframe(1), context)
    inspect.getouterframes = _frames
    try:
        import mesa
    finally:
        inspect.stack, inspect.getouterframes = stack, outer
    return mesa


mesa = _import_mesa()
