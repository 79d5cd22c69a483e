"""Files to located YAML/JSON node trees, and the typed reads every object reader shares.

The lowest stage of loading: paths become ``(display path, text)`` pairs
(:func:`iter_texts`), texts become node trees whose every node knows its file, line
and column (:class:`Source`), and nodes become checked values (labels, protocols,
port numbers, label selectors) or a :class:`~reach.errors.ManifestError` pointing at
the offending key.
"""
