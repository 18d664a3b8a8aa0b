"""The load benchmark: real games with thousands of simulated players over real WebSockets.

Run from the repository root: `python -m bench.run --quick` (about a minute) or `--full`.
`run.py` orchestrates, `players.py` is a client process holding many players' sockets, and
`baseline.py` is a bare aiohttp server speaking the same message pattern with no game logic and no
storage: the stack's own limit on the machine, against which the appliance's figures are ratios.
"""
