"""Qt-free, sound-free domain logic of the EarBench app.

Imports only the standard library, numpy and the public API of ``codec``. Everything here can run and be tested with
no display and no sound card.
"""
