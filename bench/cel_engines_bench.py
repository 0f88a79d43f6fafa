"""Which CEL engine: cel-cpp (``cel-expr-python``) against cel-rust (``common-expression-language``).

Run:  .venv/bin/python bench/cel_engines_bench.py [--seconds 1.0]

On the 20 rules of bench/policy_bench.py and the contexts of its five-call mix, in the same
process, for each engine:

- agreement: every rule on every context evaluated by both engines, results compared
  (true / false / error);
- one rule: median us to evaluate one rule with the context already built (cel-rust's
  ``Context``; cel-cpp has none and reads the Python values at each evaluation);
- a decision, the naive way: the context built, then all 20 rules one by one;
- a decision, agentdeck's way: the tool's rules as one list program on the variables they
  read (the ``decide`` path without its Python bookkeeping), with each engine's own
  ``matches``, and with cel-cpp plus agentdeck's cached-RE2 ``matches``;
- ``matches`` alone: a case-insensitive e-mail pattern, each engine's own and the cached one.

cel-rust is only needed for this comparison (it is in the ``dev`` extra); agentdeck runs on
cel-cpp. Nothing is asserted about absolute times.

Timed in CPU seconds of this process (``time.process_time``): steadier than wall time on a
shared machine; rates are per CPU-second.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _ratios import Ratio, emit  # noqa: E402
from policy_bench import DOMAIN, RULES, contexts  # noqa: E402

from agentdeck.core.policy import cel_engine  # noqa: E402


def median_us(fn: Callable[[], Any], seconds: float) -> float:
    fn()
    loops = 1
    while True:
        t0 = time.process_time()
        for _ in range(loops):
            fn()
        if time.process_time() - t0 > seconds / 10:
            break
        loops *= 2
    samples = []
    for _ in range(7):
        t0 = time.process_time()
        for _ in range(loops):
            fn()
        samples.append((time.process_time() - t0) / loops)
    return statistics.median(samples) * 1e6


def outcome(fn: Callable[[], Any]) -> str:
    try:
        value = fn()
    except Exception:
        return "error"
    return str(value).lower() if isinstance(value, bool) else "error"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=0.5, help="rough time budget per measurement")
    opts = ap.parse_args()
    try:
        import cel as cel_rust
    except ImportError:
        print("cel-rust (common-expression-language) is not installed: nothing to compare")
        return

    datas = [c.variables({"issue_refund": 0, "send_email": 0}) for c in contexts()]
    cpp = [cel_engine.compile_for_eval(w) for _, w, _ in RULES]
    rust = [cel_rust.compile(w) for _, w, _ in RULES]

    agree = total = 0
    for data in datas:
        ctx = cel_rust.Context(data)
        for p_cpp, p_rust in zip(cpp, rust, strict=True):
            a = outcome(lambda p=p_cpp, d=data: cel_engine.evaluate(p, d))
            b = outcome(lambda p=p_rust, c=ctx: p.execute(c))
            total += 1
            agree += a == b
    print(f"agreement on {len(RULES)} rules x {len(datas)} contexts: {agree}/{total}")

    def cpp_rule() -> None:
        for p in cpp:
            with contextlib.suppress(cel_engine.CelEvalError):
                cel_engine.evaluate(p, datas[0])

    ctx0 = cel_rust.Context(datas[0])

    def rust_rule() -> None:
        for p in rust:
            with contextlib.suppress(Exception):
                p.execute(ctx0)

    def cpp_decision() -> None:
        for d in datas:
            for p in cpp:
                with contextlib.suppress(cel_engine.CelEvalError):
                    cel_engine.evaluate(p, d)

    def rust_decision() -> None:
        for d in datas:
            ctx = cel_rust.Context(d)
            for p in rust:
                with contextlib.suppress(Exception):
                    p.execute(ctx)

    # agentdeck's path: per tool, its rules as one list program on the projected variables.
    from policy_bench import policy_doc

    from agentdeck.core.policy.evaluate import compile_policy
    from agentdeck.core.policy.spec import parse_policy_spec

    compiled = compile_policy(parse_policy_spec(policy_doc(), "bench"), "bench")
    grouped: list[tuple[dict[str, Any], Any, Any, Any]] = []
    for c in contexts():
        group = compiled._groups[c.tool]
        text = "[" + ", ".join(f"({r.rule.when})" for r in group.rules) + "]"
        data = {**group.variables(c, compiled.zero_counts), "tool": {"name": c.tool}}
        grouped.append((data, cel_engine.standard_program(text),
                        cel_engine.compile_for_eval(text), cel_rust.compile(text)))  # fmt: skip

    def cpp_grouped(fast: bool) -> Callable[[], None]:
        def run() -> None:
            for data, std, quick, _ in grouped:
                (quick if fast else std).eval(data=data)

        return run

    def rust_grouped() -> None:
        for data, _, _, prog in grouped:
            prog.execute(cel_rust.Context(data))

    email = {"args": {"to": "jane@example.com"}}
    expr = f"args.to.matches(r'{DOMAIN}')"
    std_cpp = cel_engine.standard_program(expr)
    fast_cpp = cel_engine.compile_for_eval(expr)
    std_rust = cel_rust.compile(expr)
    ctx_mail = cel_rust.Context(email)
    n = len(grouped)
    rows = [
        ("one rule, context already built", median_us(cpp_rule, opts.seconds) / len(cpp),
         median_us(rust_rule, opts.seconds) / len(rust)),
        ("decision: 20 rules one by one", median_us(cpp_decision, opts.seconds) / len(datas),
         median_us(rust_decision, opts.seconds) / len(datas)),
        ("decision: tool's rules as 1 list", median_us(cpp_grouped(False), opts.seconds) / n,
         median_us(rust_grouped, opts.seconds) / n),
        ("  same, matches on cached RE2", median_us(cpp_grouped(True), opts.seconds) / n,
         float("nan")),
        ("matches, the engine's own", median_us(lambda: std_cpp.eval(data=email), opts.seconds),
         median_us(lambda: std_rust.execute(ctx_mail), opts.seconds)),
        ("matches, cached RE2", median_us(lambda: fast_cpp.eval(data=email), opts.seconds),
         float("nan")),
    ]  # fmt: skip
    print("(cel-cpp hands the context over at every evaluation; cel-rust converts it into a")
    print(" Context first: that conversion is in the 'decision' rows, not in 'one rule')")
    print(f"{'':<36}{'cel-cpp us':>11}{'cel-rust us':>13}{'rust/cpp':>10}")
    for label, a, b in rows:
        print(f"{label:<36}{a:>11.2f}{b:>13.2f}{b / a:>10.1f}")
    emit("cel_engines", *(Ratio(f"cel-rust/cel-cpp: {label.strip()}", b / a)
                          for label, a, b in rows if b == b))  # fmt: skip


if __name__ == "__main__":
    main()
