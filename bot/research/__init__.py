"""The research outputs' formats: ids that stay the same in every export, and the
REFI-QDA project (``.qdpx``) that qualitative-analysis software opens.

Plain functions over plain data: no Telegram, no SQL. The export service
(``bot/services/export.py``) gathers the swap's record and hands it here.
"""
