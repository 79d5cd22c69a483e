"""Policy dialects: each reads its own YAML into the one dialect-neutral form.

One module per dialect. A dialect knows its kinds, its validation and its
semantics; what it produces is :class:`reach.model.Policy` (ordered rules with tier,
priority, subject, peers, ports, action and location), the only form the engine
consumes.
"""
