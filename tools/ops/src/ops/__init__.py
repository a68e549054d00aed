"""congress-ops: what an operator needs to see and repair the bus without reading code."""
