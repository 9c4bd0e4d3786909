"""Start the page's server (Solara on uvicorn), offline: no CDN, no telemetry, no version check."""

from __future__ import annotations

import os
import socket
from pathlib import Path

# Every import from the rest of sektorsim, in one block.
from sim.errors import ConfigError

#: Solara settings read from the environment when solara is first imported.
OFFLINE_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_ASSETS_FONTAWESOME_ENABLED": "False",
}


def port_free(host: str, port: int) -> bool:
    """True if nothing listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    results: Path = Path("results/ui"),
    workers: int = 1,
    announce=print,
) -> None:
    """Serve the page until interrupted; print its address first (ConfigError for bad input)."""
    try:
        import solara  # noqa: F401
        import solara_assets  # noqa: F401  (the offline copies of the page's JavaScript and CSS)
    except ImportError as e:
        raise ConfigError.single(
            "ui",
            "the web page needs the optional extra: "
            f"pip install 'sektorsim[ui]' ({e.name} missing)",
        ) from None
    if not port_free(host, port):
        raise ConfigError.single(
            "--port", f"port {port} on {host} is in use; choose another with --port"
        )
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    os.environ["SEKTORSIM_UI_RESULTS"] = str(results.resolve())
    os.environ["SEKTORSIM_UI_WORKERS"] = str(workers)
    from solara.__main__ import cli

    announce(
        f"sektorsim ui: open http://{host}:{port} (Ctrl+C stops it; runs are written to {results})"
    )
    cli(
        [
            "run",
            "sim.ui.app",
            "--host",
            host,
            "--port",
            str(port),
            "--production",
            "--no-open",
            "--no-check-version",
            "--log-level",
            "warning",
        ],
        standalone_mode=False,
    )
