"""`sektorsim ui`: a local web page for students (optional extra `ui`).

`sim.ui.core` runs a comparison through the library; `sim.ui.app` is the Solara page;
`sim.ui.serve` starts the server offline.
"""
