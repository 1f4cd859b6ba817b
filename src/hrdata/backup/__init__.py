"""Backups of the dictionary's tables as AVRO sets, and their verification and restore.

    sets.py      take, list, verify and prune backup sets
    restore.py   replace tables with their rows in a set, atomically, every rule checked
    manifest.py  what each file of a set holds, and how to tell it is intact
    codecs.py    the AVRO codecs a set may use
    ids.py       backup ids and their pattern
    avro.py      (inside) tables to AVRO files and back

Other rooms import the modules named in __all__.
"""

__all__ = ["codecs", "ids", "manifest", "restore", "sets"]
