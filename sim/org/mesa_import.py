"""Import Mesa without its start-up cost of reading source files.

Mesa 3.3 names its loggers at import with `inspect.stack()` and `inspect.getouterframes()`,
which read the source of every frame on the import stack and, for each frozen importlib
frame, scan every loaded module: a quarter to half a second when Mesa is imported lazily
by a command with polars, numba and scipy already loaded (issue 13). Mesa only needs each
frame, its function name and its module, so during the import these are given without
source lines and without a scan of every module (which would also execute lazy ones).

Mesa's DataCollector also imports pandas (a third of a second) for its DataFrame methods,
which sektorsim never calls (`OrganisationModel.agent_table` reads the records into
polars). Until something uses pandas, a stand-in module takes its place: pandas is
loaded the first time any of its attributes is read, and not at all in a plain run.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import types


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


class _DeferredPandas(types.ModuleType):
    """Stands in for pandas until something uses it, then loads and forwards to it.

    Python 3.11's import statement reads a cached module's `__spec__`, which makes the
    standard library's `LazyLoader` execute the module at once; this stand-in has an
    ordinary `__spec__` and loads pandas only on the first other attribute (PEP 562)."""

    def __getattr__(self, name: str):
        if sys.modules.get("pandas") is self:
            del sys.modules["pandas"]
        return getattr(importlib.import_module("pandas"), name)


def _defer_pandas() -> None:
    """Put the pandas stand-in in sys.modules (no-op if loaded or not installed)."""
    if "pandas" in sys.modules:
        return
    spec = importlib.util.find_spec("pandas")
    if spec is None:
        return
    stand_in = _DeferredPandas("pandas")
    stand_in.__spec__ = spec
    sys.modules["pandas"] = stand_in


def _import_mesa():
    if "mesa" in sys.modules:
        return sys.modules["mesa"]
    _defer_pandas()
    stack, outer, module = inspect.stack, inspect.getouterframes, inspect.getmodule
    inspect.stack = lambda context=1: _frames(sys._getframe(1), context)
    inspect.getouterframes = _frames
    inspect.getmodule = _module_of
    try:
        import mesa
    finally:
        inspect.stack, inspect.getouterframes, inspect.getmodule = stack, outer, module
    return mesa


mesa = _import_mesa()
