"""The end-to-end load and fault harness (issue 7): the real services as processes, stand-ins for
the outside world, simulated WhatsApp users and the accounting that proves nothing was lost.

Used by ``bench/load.py`` (``make bench``), ``bench/chaos.py`` (``make chaos``) and the chaos smoke
tests under ``tests/chaos``.
"""
