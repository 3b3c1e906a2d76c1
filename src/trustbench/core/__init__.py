"""The bottom layer: errors, the SQLite cache, the scheduler and the judge protocol.

Nothing here imports anything else from trustbench, so every other package may import it.
"""
