"""Conditions: a small boolean language over event fields, parsed into a tree.

Grammar (keywords are lower case)::

    expr   := and ('or' and)*
    and    := unary ('and' unary)*
    unary  := 'not' unary | '(' expr ')' | FIELD OP value | FIELD 'exists' | MACRO
    value  := WORD | STRING | '(' item (',' item)* ')'

A WORD is any run of characters other than blanks, quotes, parentheses, commas and the
comparison characters ``= ! < >``; anything else goes in single or double quotes. The tree
is made of the tuples below; the compiler resolves macros and lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from seawall.errors import InputError

COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})
WORD_OPERATORS = frozenset(
    {"in", "contains", "icontains", "startswith", "endswith", "glob", "matches", "under", "intel"}
)
OPERATORS = COMPARISONS | WORD_OPERATORS
MAX_CONDITION = 20_000
MAX_DEPTH = 100

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<punct>\(|\)|,)
    | (?P<cmp>==|!=|<=|>=|=|<|>)
    | '(?P<sq>[^']*)'
    | "(?P<dq>[^"]*)"
    | (?P<word>[^\s'"(),=!<>]+)
    )""",
    re.VERBOSE,
)


class ConditionError(InputError):
    """A condition does not parse, or names an unknown field, macro, list or operator."""


@dataclass(frozen=True)
class Token:
    kind: str  # "punct", "cmp", "str" (quoted), "word"
    text: str


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Compare:
    field: str
    op: str
    values: tuple[Literal, ...]  # one value, or the items of a parenthesised list
    listed: bool  # written as a list (or a bare list name): the operator applies to any item


@dataclass(frozen=True)
class Exists:
    field: str


@dataclass(frozen=True)
class MacroRef:
    name: str


@dataclass(frozen=True)
class Literal:
    text: str
    quoted: bool  # quoted text is never taken for a list name


Node = And | Or | Not | Compare | Exists | MacroRef


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; raise :class:`ConditionError` on stray characters."""
    if len(text) > MAX_CONDITION:
        raise ConditionError(f"condition longer than {MAX_CONDITION} characters")
    tokens: list[Token] = []
    pos = 0
    end = len(text.rstrip())
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ConditionError(f"unexpected character {text[pos : pos + 1]!r} at {pos}")
        pos = match.end()
        if match.group("punct") is not None:
            tokens.append(Token("punct", match.group("punct")))
        elif match.group("cmp") is not None:
            op = match.group("cmp")
            tokens.append(Token("cmp", "=" if op == "==" else op))
        elif match.group("sq") is not None:
            tokens.append(Token("str", match.group("sq")))
        elif match.group("dq") is not None:
            tokens.append(Token("str", match.group("dq")))
        else:
            tokens.append(Token("word", match.group("word")))
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise ConditionError("condition ends too early")
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.kind != "punct" or token.text != text:
            raise ConditionError(f"expected {text!r}, found {token.text!r}")

    def is_word(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text == word

    def expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(f"condition nested deeper than {MAX_DEPTH}")
        items = [self.conjunction()]
        while self.is_word("or"):
            self.pos += 1
            items.append(self.conjunction())
        self.depth -= 1
        return items[0] if len(items) == 1 else Or(tuple(items))

    def conjunction(self) -> Node:
        items = [self.unary()]
        while self.is_word("and"):
            self.pos += 1
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Node:
        token = self.take()
        if token.kind == "word" and token.text == "not":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ConditionError(f"condition nested deeper than {MAX_DEPTH}")
            negated = Not(self.unary())
            self.depth -= 1
            return negated
        if token.kind == "punct" and token.text == "(":
            node = self.expr()
            self.expect(")")
            return node
        if token.kind != "word" or token.text in ("and", "or"):
            raise ConditionError(f"expected a field or macro, found {token.text!r}")
        nxt = self.peek()
        if nxt is not None and nxt.kind == "word" and nxt.text == "exists":
            self.pos += 1
            return Exists(token.text)
        if nxt is not None and (
            nxt.kind == "cmp" or (nxt.kind == "word" and nxt.text in OPERATORS)
        ):
            self.pos += 1
            values, listed = self.value()
            return Compare(token.text, nxt.text, values, listed)
        return MacroRef(token.text)

    def value(self) -> tuple[tuple[Literal, ...], bool]:
        token = self.take()
        if token.kind == "punct" and token.text == "(":
            items = [self.item()]
            while True:
                sep = self.take()
                if sep.kind == "punct" and sep.text == ")":
                    return tuple(items), True
                if sep.kind != "punct" or sep.text != ",":
                    raise ConditionError(f"expected ',' or ')' in a list, found {sep.text!r}")
                items.append(self.item())
        if token.kind in ("word", "str"):
            return (Literal(token.text, token.kind == "str"),), False
        raise ConditionError(f"expected a value, found {token.text!r}")

    def item(self) -> Literal:
        token = self.take()
        if token.kind not in ("word", "str"):
            raise ConditionError(f"expected a list item, found {token.text!r}")
        return Literal(token.text, token.kind == "str")


def parse_condition(text: str) -> Node:
    """The tree of ``text``; raise :class:`ConditionError` with the reason."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("empty condition")
    parser = _Parser(tokenize(text))
    node = parser.expr()
    if parser.peek() is not None:
        raise ConditionError(f"unexpected {parser.peek().text!r} after the condition")  # type: ignore[union-attr]
    return node
