"""Calico's selector language: text to :class:`~reach.model.expressions.CalicoSelector`.

The grammar, lowest precedence first (``!`` binds tighter than ``&&``, which binds
tighter than ``||``; a match operator binds tightest)::

    selector := <empty> | or
    or       := and ( "||" and )*
    and      := not ( "&&" not )*
    not      := "!"* primary
    primary  := "(" or ")" | "has(" KEY ")" | "all(" ")" | "global(" ")"
              | KEY ( "==" | "!=" | "contains" | "starts with" | "ends with" ) STRING
              | KEY ( "in" | "not in" ) "{" [ STRING ( "," STRING )* [","] ] "}"

Tokens are read as Calico reads them: spaces and tabs may separate any two tokens
and are the only whitespace allowed (a YAML block scalar that keeps its line breaks
gives a selector Calico refuses); a label key is a run of ASCII letters, digits,
``-``, ``_``, ``.`` and ``/`` (``prefix/name``); a string is quoted with ``'`` or
``"`` and has no escapes, so a value holding one quote is written in the other;
``has``, ``all`` and ``global`` are functions only when ``(`` follows at once (a
key may be called ``has``); ``not in``, ``starts with`` and ``ends with`` may be
written without their space, as Calico allows. An empty selector is ``all()``; an
even number of ``!`` cancels out, as in Calico.

Examples
--------
>>> sel = parse_selector("app == 'web' && !has(canary)")
>>> sel.matches({"app": "web"}), sel.matches({"app": "web", "canary": "yes"})
(True, False)
>>> parse_selector("tier not in {'db'}").matches({})
True
>>> try:
...     parse_selector("app = 'web'")
... except SelectorSyntaxError as err:
...     print(err.offset, err)
4 unexpected "=" (did you mean "=="?)
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Literal

from reach.errors import ReachError
from reach.model.expressions import (
    COMPARE_OPS,
    All,
    And,
    CalicoSelector,
    Compare,
    CompareOp,
    Expression,
    Global,
    Has,
    InSet,
    Not,
    Or,
)

__all__ = ["MAX_DEPTH", "SelectorSyntaxError", "parse_selector"]

#: How deep parentheses may nest; deeper selectors are refused rather than
#: exhausting Python's stack (real selectors nest a handful of levels).
MAX_DEPTH = 100

_TokenKind = Literal["key", "string", "has(", "all(", "global(", "(", ")", "{", "}", ",",
                    "==", "!=", "!", "&&", "||", "end"]

_BLANKS = " \t"
_KEY_CHARS = frozenset(string.ascii_letters + string.digits + "-_./")
_FUNCTIONS = frozenset({"has", "all", "global"})
_PAIRS: dict[str, _TokenKind] = {"==": "==", "!=": "!=", "&&": "&&", "||": "||"}
_SINGLES: dict[str, _TokenKind] = {"(": "(", ")": ")", "{": "{", "}": "}", ",": ",", "!": "!"}
_HALVES = {"=": "==", "&": "&&", "|": "||"}
_COMPARE: dict[str, CompareOp] = {op: op for op in COMPARE_OPS}
# Operators spelled as words: one word, or the first word and the one that must follow.
_ONE_WORD = {"contains": "contains", "in": "in", "notin": "not in",
             "startswith": "starts with", "endswith": "ends with"}
_TWO_WORDS = {"not": "in", "starts": "with", "ends": "with"}
_OPERATORS = "==, !=, in, not in, contains, starts with or ends with"
_EXPRESSION = 'a label key, has(...), all(), global(), "!" or "("'


class SelectorSyntaxError(ReachError, ValueError):
    """A Calico selector that does not parse.

    ``offset`` is the 0-based index into the selector text where the problem is
    (its length when the text ends too early); ``message`` (also ``str(err)``) says
    what is wrong there.

    >>> err = SelectorSyntaxError("unterminated string", 7)
    >>> str(err), err.offset, isinstance(err, ValueError)
    ('unterminated string', 7, True)
    """

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message, offset)
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class _Token:
    """A token, its value (a key, a string's contents, else its text) and where it is."""

    kind: _TokenKind
    value: str
    offset: int
    source: str  # as written: a string with its quotes, a function with its "("

    @property
    def end(self) -> int:
        return self.offset + len(self.source)

    def shown(self) -> str:
        """The token as messages quote it."""
        if self.kind == "end":
            return "the end of the selector"
        return self.source if self.kind == "string" else f'"{self.source}"'


def _skip_blanks(text: str, at: int) -> int:
    while at < len(text) and text[at] in _BLANKS:
        at += 1
    return at


def _unexpected_character(char: str, rest: str) -> str:
    if char in "\n\r" and not rest.strip():
        return ("unexpected line break at the end (Calico separates tokens with spaces and"
                " tabs only; a YAML block scalar keeps its last line break unless written"
                " |- or >-)")
    if char in "\n\r":
        what = "line break"
    elif char.isspace():
        what = f"whitespace U+{ord(char):04X}"
    else:
        shown = f'"{char}"' if char.isprintable() else f"U+{ord(char):04X}"
        return f"unexpected character {shown}"
    return f"unexpected {what} (Calico separates tokens with spaces and tabs only)"


def _token_at(text: str, at: int) -> _Token:
    """The token that starts at ``at`` (no blanks there), or the end token."""
    if at == len(text):
        return _Token("end", "", at, "")
    char, pair = text[at], text[at:at + 2]
    if pair in _PAIRS:
        return _Token(_PAIRS[pair], pair, at, pair)
    if char in _SINGLES:
        return _Token(_SINGLES[char], char, at, char)
    if char in _HALVES:
        raise SelectorSyntaxError(f'unexpected "{char}" (did you mean "{_HALVES[char]}"?)', at)
    if char in "'\"":
        close = text.find(char, at + 1)
        if close < 0:
            raise SelectorSyntaxError("unterminated string", at)
        return _Token("string", text[at + 1:close], at, text[at:close + 1])
    if char not in _KEY_CHARS:
        raise SelectorSyntaxError(_unexpected_character(char, text[at:]), at)
    end = at
    while end < len(text) and text[end] in _KEY_CHARS:
        end += 1
    word = text[at:end]
    if word in _FUNCTIONS and text[end:end + 1] == "(":
        kind: _TokenKind = "has(" if word == "has" else "all(" if word == "all" else "global("
        return _Token(kind, word, at, text[at:end + 1])
    return _Token("key", word, at, word)


class _Parser:
    """Recursive descent over ``text``, reading one token ahead, on demand (so the
    first error in the text is the one reported)."""

    __slots__ = ("_ahead", "_at", "_previous", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._at = 0
        self._ahead: _Token | None = None
        self._previous: _Token | None = None

    def _peek(self) -> _Token:
        if self._ahead is None:
            self._ahead = _token_at(self._text, _skip_blanks(self._text, self._at))
        return self._ahead

    def _next(self) -> _Token:
        token = self._peek()
        self._ahead, self._previous, self._at = None, token, token.end
        return token

    def selector(self) -> Expression:
        if self._peek().kind == "end":
            return All()
        tree = self._or(0)
        token = self._peek()
        if token.kind == ")":
            raise SelectorSyntaxError('unexpected ")" (no parenthesis is open)', token.offset)
        if token.kind != "end":
            raise SelectorSyntaxError(f"unexpected {token.shown()} after a complete expression"
                                      ' (did you mean "&&" or "||"?)', token.offset)
        return tree

    def _or(self, depth: int) -> Expression:
        nodes = [self._and(depth)]
        while self._peek().kind == "||":
            self._next()
            nodes.append(self._and(depth))
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def _and(self, depth: int) -> Expression:
        nodes = [self._not(depth)]
        while self._peek().kind == "&&":
            self._next()
            nodes.append(self._not(depth))
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def _not(self, depth: int) -> Expression:
        negations = 0
        while self._peek().kind == "!":
            self._next()
            negations += 1
        node = self._primary(depth)
        return Not(node) if negations % 2 else node

    def _primary(self, depth: int) -> Expression:
        before, token = self._previous, self._next()
        if token.kind == "key":
            return self._match(token)
        if token.kind == "has(":
            key = self._next()
            if key.kind != "key":
                raise SelectorSyntaxError(
                    f"expected a label key inside has(...) but found {key.shown()}", key.offset)
            self._close(token, f'expected ")" after has({key.value}')
            return Has(key.value)
        if token.kind in ("all(", "global("):
            self._close(token, f'expected ")" after "{token.source}"')
            return All() if token.kind == "all(" else Global()
        if token.kind == "(":
            if depth >= MAX_DEPTH:
                raise SelectorSyntaxError(
                    f"parentheses nested more than {MAX_DEPTH} deep", token.offset)
            node = self._or(depth + 1)
            self._close(token, 'expected "&&", "||" or ")"')
            return node
        if token.kind == "end" and before is not None:
            raise SelectorSyntaxError(
                f"expected a selector expression after {before.shown()}", token.offset)
        raise SelectorSyntaxError(f"expected {_EXPRESSION} but found {token.shown()}",
                                  token.offset)

    def _close(self, opening: _Token, expected: str) -> None:
        """Read the ``)`` that closes ``opening`` (a ``(`` or a function)."""
        token = self._next()
        if token.kind == ")":
            return
        if token.kind == "end":
            raise SelectorSyntaxError("unclosed parenthesis", opening.end - 1)
        raise SelectorSyntaxError(f"{expected} but found {token.shown()}", token.offset)

    def _match(self, key: _Token) -> Expression:
        token = self._next()
        if token.kind in ("==", "!="):
            return Compare(key.value, _COMPARE[token.kind], self._value(token.kind))
        operator = self._word_operator(key, token)
        if operator in ("in", "not in"):
            return self._set(key, operator)
        return Compare(key.value, _COMPARE[operator], self._value(operator))

    def _word_operator(self, key: _Token, token: _Token) -> str:
        """The operator a word after a label key spells (reading its second word)."""
        if token.kind == "key" and token.value in _ONE_WORD:
            return _ONE_WORD[token.value]
        if token.kind == "key" and token.value in _TWO_WORDS:
            second = self._next()
            wanted = _TWO_WORDS[token.value]
            if second.kind != "key" or second.value != wanted:
                raise SelectorSyntaxError(
                    f'expected "{wanted}" after "{token.value}" but found {second.shown()}',
                    second.offset)
            return f"{token.value} {wanted}"
        message = f'expected an operator after label key "{key.value}"'
        if token.kind == "end":
            message += f" (did you mean has({key.value})?)"
        elif token.kind == "(" and key.value in _FUNCTIONS:
            message += f' but found "(" (write {key.value}( with no space before "(")'
        else:
            message += f" but found {token.shown()} (one of {_OPERATORS})"
        raise SelectorSyntaxError(message, token.offset)

    def _value(self, operator: str) -> str:
        token = self._next()
        if token.kind == "string":
            return token.value
        message = f'expected a quoted value after "{operator}"'
        if token.kind == "key":
            message += f" (did you mean '{token.value}'?)"
        elif token.kind != "end":
            message += f" but found {token.shown()}"
        raise SelectorSyntaxError(message, token.offset)

    def _set(self, key: _Token, operator: str) -> Expression:
        brace = self._next()
        if brace.kind != "{":
            raise SelectorSyntaxError(
                f'expected "{{" after "{operator}" but found {brace.shown()}'
                " (a set is written {'a', 'b'})", brace.offset)
        values: list[str] = []
        while True:
            token = self._next()
            if token.kind == "}":
                break
            if token.kind != "string":
                raise self._set_error(brace, token, 'expected a quoted value or "}" in the set')
            values.append(token.value)
            token = self._next()
            if token.kind == "}":
                break
            if token.kind != ",":
                raise self._set_error(brace, token, 'expected "," or "}" after a value in the set')
        return InSet(key.value, tuple(sorted(set(values))), negated=operator == "not in")

    @staticmethod
    def _set_error(brace: _Token, token: _Token, expected: str) -> SelectorSyntaxError:
        if token.kind == "end":
            return SelectorSyntaxError('unclosed set (no "}")', brace.offset)
        hint = f" (did you mean '{token.value}'?)" if token.kind == "key" else ""
        return SelectorSyntaxError(f"{expected} but found {token.shown()}{hint}", token.offset)


def parse_selector(text: str) -> CalicoSelector:
    """Parse a Calico selector; an empty (or blank) one is ``all()``.

    Parameters
    ----------
    text
        The selector as written in the manifest.

    Returns
    -------
    CalicoSelector
        The text and its tree; ``str()`` of it gives ``text`` back.

    Raises
    ------
    SelectorSyntaxError
        The selector does not parse; ``offset`` says where in ``text``.

    Examples
    --------
    >>> parse_selector("a == 'x' || b == 'y' && c == 'z'").tree
    Or(nodes=(Compare(key='a', op='==', value='x'),
              And(nodes=(Compare(key='b', op='==', value='y'),
                         Compare(key='c', op='==', value='z')))))
    >>> parse_selector("  ").is_all, parse_selector("env in {'qa', \\"dev\\"}").tree
    (True, InSet(key='env', values=('dev', 'qa'), negated=False))
    >>> parse_selector("has(app) &").tree
    Traceback (most recent call last):
    ...
    reach.policies.calico_selector.SelectorSyntaxError: unexpected "&" (did you mean "&&"?)
    """
    return CalicoSelector(text, _Parser(text).selector())
