"""The engine: interval, port, address and label-selector algebra, and the compiler.

Everything here works on equivalence classes of pods and canonical sets, never pod
pair by pod pair. The compiler consumes only the dialect-neutral policy form of
:mod:`reach.model`; it knows nothing of YAML or of any dialect.
"""
