"""Kubernetes name syntax: label keys and values, port names (IANA_SVC_NAME).

Each check returns None for a valid name or the reason it is invalid, worded like
the API server's own messages.

Examples
--------
>>> label_key_problem("app.kubernetes.io/name") is None
True
>>> label_key_problem("app name")
"name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end ..."
>>> label_value_problem("1.10") is None, label_value_problem("-x") is not None
(True, True)
>>> port_name_problem("http-alt") is None, port_name_problem("8080")
(True, 'must contain at least one letter')
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["label_key_problem", "label_value_problem", "port_name_problem"]

_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\Z")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_PORT_NAME_CHARS = re.compile(r"[-a-z0-9]+\Z")
_NAME_RULE = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)


@lru_cache(maxsize=1 << 16)  # the same keys and names come back in every object
def label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid label key (``[prefix/]name``), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and not prefix:
        return "prefix part must be non-empty"
    if "/" in prefix:
        return "a label key may contain at most one '/'"
    if prefix:
        if len(prefix) > 253:
            return "prefix part must be no more than 253 characters"
        if not _DNS_SUBDOMAIN.match(prefix):
            return (
                "prefix part must be a lowercase DNS subdomain: "
                "lowercase alphanumeric characters, '-' or '.'"
            )
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not _NAME.match(name):
        return f"name part {_NAME_RULE}"
    return None


@lru_cache(maxsize=1 << 16)  # the same keys and names come back in every object
def label_value_problem(value: str) -> str | None:
    """Why ``value`` is not a valid label value (empty is valid), or None."""
    if not value:
        return None
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _NAME.match(value):
        return f"a label value {_NAME_RULE}"
    return None


@lru_cache(maxsize=1 << 16)  # the same keys and names come back in every object
def port_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid port name (IANA_SVC_NAME), or None."""
    if not name:
        return "must not be empty"
    if len(name) > 15:
        return "must be no more than 15 characters"
    if not _PORT_NAME_CHARS.match(name):
        return "must contain only lowercase alphanumeric characters (a-z, 0-9) or '-'"
    if "--" in name:
        return "must not contain consecutive hyphens"
    if name[0] == "-" or name[-1] == "-":
        return "must not begin or end with a hyphen"
    if not any("a" <= c <= "z" for c in name):
        return "must contain at least one letter"
    return None
