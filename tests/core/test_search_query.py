"""The search query language: what parses to what, malformed queries as one-line errors naming
the position, and (Hypothesis) any text either parses or fails with such an error, and any
tree written out parses back to itself."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Outcome, SpanStatus
from agentdeck.core.trace.query import RunQuery
from agentdeck.core.trace.search import (
    MAX_LENGTH,
    All,
    Any_,
    Node,
    Not,
    Term,
    Text,
    parse_search,
)
from agentdeck.core.trace.search_plan import search_query, with_search


def _strip(node: Node | None) -> Node | None:
    """The tree without source positions."""
    if node is None:
        return None
    if isinstance(node, Term):
        return Term(node.field, node.op, node.value)
    if isinstance(node, Text):
        return Text(node.text, node.phrase, node.prefix)
    if isinstance(node, Not):
        return Not(_strip(node.item))  # type: ignore[arg-type]
    items = tuple(_strip(i) for i in node.items)
    return All(items) if isinstance(node, All) else Any_(items)  # type: ignore[arg-type]


def test_fields_texts_and_operators_parse_to_typed_terms() -> None:
    got = _strip(
        parse_search('agent:bot version>=2 cost<0.5 latency>1.5s "exact words" refu* -tag:x')
    )
    assert got == All((
        Term("agent", "=", "bot"), Term("version", ">=", 2), Term("cost", "<", 0.5),
        Term("latency", ">", 1_500_000_000), Text("exact words", phrase=True),
        Text("refu", prefix=True), Not(Term("tag", "=", "x")),
    ))  # fmt: skip
    assert _strip(parse_search("a OR b AND c")) == Any_((Text("a"), All((Text("b"), Text("c")))))
    assert _strip(parse_search("latency<250ms")) == Term("latency", "<", 250_000_000)
    assert _strip(parse_search("session_id:s1")) == Term("session", "=", "s1")
    assert _strip(parse_search('attr.customer.plan:"pro plan"')) == Term(
        "attr.customer.plan", "=", "pro plan"
    )
    assert _strip(parse_search("errors:true")) == Term("errors", "=", True)
    assert _strip(parse_search("digest:sha256:ab12")) == Term("digest", "=", "sha256:ab12")
    assert parse_search("   ") is None


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("cost>", "-q: position 6: expected a value after 'cost>'"),
        ("agent:a OR", "-q: position 11: expected a term, got end of query"),
        ("(a b", "-q: position 5: expected ')' to close the '(' at position 1"),
        ("a ) b", "-q: position 3: unexpected ')'"),
        ('x "abc', "-q: position 3: unterminated quoted string"),
        ("status:maybe", "-q: position 8: status: expected ok, error, unset, got 'maybe'"),
        ("version>x", "-q: position 9: version: expected a whole number, got 'x'"),
        ("tool>3", "-q: position 5: tool: operator '>' not allowed (use : = !=)"),
        ("cost>-1", "-q: position 6: cost: expected an amount in USD (0.25, $2), got '-1'"),
        ("latency>3q", "-q: position 9: latency: expected a duration (250ms, 1.5s, 5m), got '3q'"),
        ("()", "-q: position 2: empty parentheses"),
        ("NOT", "-q: position 4: expected a term, got end of query"),
        ("a AND OR b", "-q: position 7: expected a term, got OR"),
    ],
)
def test_malformed_query_is_one_line_naming_the_position(q: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        parse_search(q, "-q")
    assert str(err.value) == message


def test_unknown_field_lists_the_fields() -> None:
    with pytest.raises(
        InputError, match=r"^query.q: position 3: unknown field 'foo' \(fields: agent"
    ):
        parse_search("x foo:bar")


def test_limits_on_length_and_nesting() -> None:
    with pytest.raises(InputError, match=f"at most {MAX_LENGTH} characters"):
        parse_search("a" * (MAX_LENGTH + 1))
    with pytest.raises(InputError, match="nested more than"):
        parse_search("(" * 40 + "a" + ")" * 40)
    with pytest.raises(InputError, match="more than 64 terms"):
        parse_search(" ".join(["w"] * 65))


def test_top_level_fields_become_the_lists_indexed_filters() -> None:
    q = search_query(RunQuery(), "agent:bot env:prod status:error outcome:failure tool:t "
                                 "session:s user:u errors:true time>=5 time<9 refund")  # fmt: skip
    assert (q.agent_name, q.env, q.status, q.outcome, q.tool) == (
        "bot",
        "prod",
        SpanStatus.ERROR,
        Outcome.FAILURE,
        "t",
    )
    assert (q.session_id, q.user_id, q.has_errors, q.since_ns, q.until_ns) == ("s", "u", True, 5, 9)
    assert _strip(q.search) == Text("refund")
    # a field set by an option stays; a different value in the query must hold too
    both = with_search(RunQuery(agent_name="a"), parse_search("agent:b"))
    assert both.agent_name == "a" and _strip(both.search) == Term("agent", "=", "b")
    # inside OR or NOT nothing is lifted
    either = search_query(RunQuery(), "agent:a OR agent:b")
    assert either.agent_name is None and isinstance(either.search, Any_)


# -- Hypothesis --------------------------------------------------------------------------------

_POS = re.compile(r"^-q: (position (\d+): .+|at most \d+ characters, got \d+)$")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab :=!<>()"*-\\.ORANDT0123456789$sm')) | st.characters(),
               max_size=80))  # fmt: skip
def test_any_text_parses_or_fails_naming_a_position(text: str) -> None:
    try:
        parse_search(text, "-q")
    except InputError as exc:
        msg = str(exc)
        assert "\n" not in msg
        m = _POS.match(msg)
        assert m, msg
        if m.group(2):
            assert 1 <= int(m.group(2)) <= len(text) + 1


_word = st.text(alphabet="abcxyz019_", min_size=1, max_size=6).filter(
    lambda w: w not in ("AND", "OR", "NOT")
)
_quoted = st.text(alphabet='ab c"\\é', min_size=1, max_size=8).filter(lambda s: s.strip() != "")


def _terms() -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(Text, _word),
        st.builds(lambda w: Text(w, prefix=True), _word),
        st.builds(lambda s: Text(s, phrase=True), _quoted),
        st.builds(lambda v: Term("agent", "=", v), _word),
        st.builds(lambda v: Term("attr.k.x", "=", v), _quoted),
        st.builds(lambda op, n: Term("version", op, n),
                  st.sampled_from(["=", "!=", ">", ">=", "<", "<="]), st.integers(0, 10**6)),
        st.builds(lambda b: Term("errors", "=", b), st.booleans()),
    )  # fmt: skip


_trees = st.recursive(
    _terms(),
    lambda kids: st.one_of(
        st.builds(Not, kids),
        st.builds(lambda xs: All(tuple(xs)), st.lists(kids, min_size=2, max_size=3)),
        st.builds(lambda xs: Any_(tuple(xs)), st.lists(kids, min_size=2, max_size=3)),
    ),
    max_leaves=8,
)


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _write(node: Node) -> str:
    if isinstance(node, Text):
        return _q(node.text) if node.phrase else node.text + ("*" if node.prefix else "")
    if isinstance(node, Term):
        v = node.value
        text = ("true" if v else "false") if isinstance(v, bool) else str(v)
        op = ":" if node.op == "=" else node.op
        return f"{node.field}{op}{_q(text) if node.field.startswith('attr.') else text}"
    if isinstance(node, Not):
        return f"NOT ({_write(node.item)})"
    sep = " AND " if isinstance(node, All) else " OR "
    return sep.join(f"({_write(i)})" for i in node.items)


def _flat(node: Node) -> Node:
    """Parentheses around an item of the same kind add nothing the parser keeps."""
    if isinstance(node, Not):
        return Not(_flat(node.item))
    if isinstance(node, All | Any_):
        out: list[Node] = []
        for i in node.items:
            f = _flat(i)
            out.extend(f.items if type(f) is type(node) else (f,))  # type: ignore[union-attr]
        return type(node)(tuple(out))
    return node


@settings(max_examples=300, deadline=None)
@given(_trees)
def test_a_written_tree_parses_back_to_itself(tree: Node) -> None:
    parsed = _strip(parse_search(_write(tree)))
    assert parsed is not None and _flat(parsed) == _flat(tree)
