"""What the tests share: the Bot API stand-in, the running bot, and the steps of a swap.

Fixtures live in ``tests/conftest.py``; everything here is plain code they and
the tests import.
"""
