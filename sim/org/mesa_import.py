"""Import Mesa without its start-up cost of reading source files.

Mesa 3.3 names its loggers at import with `inspect.stack()` and `inspect.getouterframes()`,
which read the source of every frame on the import stack and, for each frozen importlib
frame, scan every loaded module: a quarter to half a second when Mesa is imported lazily
by a command with polars, numba and scipy already loaded (issue 13). Mesa only needs each
frame, its function name and its module, so during the import these are given without
source lines and without a scan of every module (which would also execute lazy ones).

Mesa's DataCollector also imports pandas (a third of a second) for its DataFrame methods,
which sektorsim does not need (`OrganisationModel.agent_table` reads the records into
polars). During Mesa's import, `import pandas` therefore fails as if pandas were absent
(which the DataCollector tolerates), and the DataCollector is then given a `pd` that
imports pandas on first use; nothing else sees a difference.
"""

from __future__ import annotations

import importlib
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


def _module_of(obj, _filename=None):
    """`inspect.getmodule` for a frame: the module named by its globals."""
    return sys.modules.get(obj.f_globals.get("__name__", ""))


class _PandasOnUse:
    """What Mesa's DataCollector sees as `pd`: imports pandas on first use and forwards."""

    def __getattr__(self, name: str):
        return getattr(importlib.import_module("pandas"), name)


def _import_mesa():
    if "mesa" in sys.modules:
        return sys.modules["mesa"]
    stack, outer, module = inspect.stack, inspect.getouterframes, inspect.getmodule
    inspect.stack = lambda context=1: _frames(sys._getframe(1), context)
    inspect.getouterframes = _frames
    inspect.getmodule = _module_of
    blocked = "pandas" not in sys.modules
    if blocked:  # `import pandas` raises ImportError, which the DataCollector tolerates
        sys.modules["pandas"] = None
    try:
        import mesa
        import mesa.datacollection
    finally:
        inspect.stack, inspect.getouterframes, inspect.getmodule = stack, outer, module
        if blocked:
            del sys.modules["pandas"]
    if blocked:
        mesa.datacollection.pd = _PandasOnUse()
    return mesa


mesa = _import_mesa()
