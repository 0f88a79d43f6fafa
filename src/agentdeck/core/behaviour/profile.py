"""Behaviour profiles: what an agent normally does, summarized from a set of runs.

A run is read once into a :class:`RunView` (its tool calls in ``seq`` order, policy decisions,
LLM calls and context features). A :class:`BehaviourProfile` is then built from any number of
views in one streaming pass with bounded memory (:class:`ProfileBuilder`); it is a frozen
value with :meth:`BehaviourProfile.to_dict`/:meth:`~BehaviourProfile.from_dict` so that it
can be stored as JSON. A baseline and a window are both profiles, built the same way, and the
monitor compares profiles (``agentdeck.monitor.drift``); per-run checks read one profile
(``agentdeck.core.behaviour.run_checks``).

What a profile holds (docs/monitoring.md has the full account):

- tool-selection counts, overall and per step index, and first-order transition counts
  (``<start>`` -> tool -> ... -> ``<end>``), with per-run sums of squares so that tests can
  correct for calls being clustered in runs (:class:`CategoricalCounts`);
- steps per run (exact histogram), argument validity and tool errors per tool, completion
  and error counts, policy effects, response model ids;
- numeric features as count/sum/min/max plus a reservoir sample (:class:`NumericSummary`):
  run latency, tokens, steps, input length, turns, mean tool-response size; latency per tool;
- each tool's response schema inferred with genson, and a bottom-k sketch of
  ``args -> response`` digests per tool (:class:`ResponseSketch`) for response drift;
- context: dominant script per run, hashed bag-of-words, script character mix;
- a reservoir of action sequences and the improbability threshold of the transition model.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentdeck.core.behaviour.context_features import DEFAULT_BOW_BUCKETS
from agentdeck.core.behaviour.parts import (
    END,
    START,
    CategoricalCounts,
    NumericSummary,
    ResponseSketch,
    TransitionModel,
    _CategoricalAcc,
    _DenseCategoricalAcc,
    _Reservoir,
    _SketchAcc,
    pair_key,
)
from agentdeck.core.behaviour.run_view import LlmCall, PolicyDecision, RunView, ToolCall
from agentdeck.core.behaviour.schema_infer import FieldPresence, SchemaAccumulator
from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Outcome

__all__ = [
    "END",
    "START",
    "BehaviourProfile",
    "CategoricalCounts",
    "LlmCall",
    "NumericSummary",
    "PolicyDecision",
    "ProfileBuilder",
    "ProfileSettings",
    "ResponseSketch",
    "RunView",
    "ToolCall",
    "TransitionModel",
    "build_profile",
    "pair_key",
]

PROFILE_FORMAT = 1
#: Numeric run features every profile carries (names of :attr:`BehaviourProfile.numeric`).
RUN_FEATURES = (
    "latency_ms",
    "tokens",
    "steps",
    "input_chars",
    "turns",
    "tool_response_bytes",
    "outcome_score",
)


@dataclass(frozen=True, slots=True)
class ProfileSettings:
    """How a profile is built. Compare only profiles built with equal ``bow_buckets``.

    ``reservoir_size`` bounds every sample (numeric features, action sequences);
    ``response_keys`` bounds the args->response sketch per tool; ``transition_alpha`` is the
    add-alpha smoothing of the transition model; ``sequence_quantile`` is the quantile of the
    baseline's sequence scores used as the improbability threshold; step indexes at or past
    ``max_step_index`` share one bucket; ``seed`` makes reservoirs reproducible.
    """

    bow_buckets: int = DEFAULT_BOW_BUCKETS
    reservoir_size: int = 2000
    response_keys: int = 512
    transition_alpha: float = 0.1
    sequence_quantile: float = 0.995
    max_step_index: int = 16
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "bow_buckets": self.bow_buckets,
            "reservoir_size": self.reservoir_size,
            "response_keys": self.response_keys,
            "transition_alpha": self.transition_alpha,
            "sequence_quantile": self.sequence_quantile,
            "max_step_index": self.max_step_index,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ProfileSettings:
        return cls(**{k: d[k] for k in cls().to_dict() if k in d})


def _threshold(v: Any) -> float:
    return math.inf if v is None else float(v)


def _int_map(d: Mapping[str, Any]) -> dict[str, int]:
    return {str(k): int(v) for k, v in d.items()}


def _pair_map(d: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    return {str(k): (int(v[0]), int(v[1])) for k, v in d.items()}


@dataclass(frozen=True, eq=False)
class BehaviourProfile:
    """A behaviour profile (see the module docstring). Equality is identity; compare
    :meth:`to_dict` outputs for value equality."""

    n_runs: int
    settings: ProfileSettings
    tool_calls: CategoricalCounts
    tool_by_step: Mapping[int, Mapping[str, int]]
    transitions: CategoricalCounts
    steps_histogram: Mapping[int, int]
    args_validity: Mapping[str, tuple[int, int]]
    tool_errors: Mapping[str, tuple[int, int]]
    completed: int
    errored: int
    policy_effects: Mapping[str, int]
    response_models: Mapping[str, int]
    numeric: Mapping[str, NumericSummary]
    tool_latency_ms: Mapping[str, NumericSummary]
    response_schemas: Mapping[str, Mapping[str, Any]]
    response_counts: Mapping[str, int]
    response_sketches: Mapping[str, ResponseSketch]
    dominant_script: CategoricalCounts
    bow: CategoricalCounts
    script_chars: Mapping[str, int]
    sequence_sample: tuple[tuple[str, ...], ...]
    sequence_threshold: float
    response_presence: Mapping[str, FieldPresence] = field(default_factory=dict)
    outcomes: tuple[int, int] = (0, 0)  # (successes, runs with a known outcome)
    format: int = PROFILE_FORMAT
    _model: list[TransitionModel] = field(default_factory=list, repr=False, compare=False)

    # -- derived views ---------------------------------------------------------------------

    @property
    def tools(self) -> tuple[str, ...]:
        """Every tool name seen in the profile, sorted."""
        return tuple(sorted(self.tool_calls.counts))

    @property
    def completion_rate(self) -> float:
        return self.completed / self.n_runs if self.n_runs else 0.0

    @property
    def outcome_success_rate(self) -> float | None:
        """Share of successes among the runs whose outcome is known; ``None`` if none is."""
        return self.outcomes[0] / self.outcomes[1] if self.outcomes[1] else None

    @property
    def error_rate(self) -> float:
        return self.errored / self.n_runs if self.n_runs else 0.0

    def tool_frequencies(self) -> dict[str, float]:
        """Share of tool calls per tool."""
        total = self.tool_calls.total
        return {k: v / total for k, v in sorted(self.tool_calls.counts.items())} if total else {}

    def validity_rate(self, tool: str | None = None) -> float | None:
        """Share of checked calls whose arguments were valid (all tools, or one); ``None`` if
        no call was checked."""
        if tool is None:
            pairs = list(self.args_validity.values())
        else:
            pairs = [self.args_validity[tool]] if tool in self.args_validity else []
        valid, checked = sum(p[0] for p in pairs), sum(p[1] for p in pairs)
        return valid / checked if checked else None

    @property
    def steps_range(self) -> tuple[int, int] | None:
        """Smallest and largest number of steps (tool calls) seen in a run."""
        if not self.steps_histogram:
            return None
        return min(self.steps_histogram), max(self.steps_histogram)

    def transition_model(self) -> TransitionModel:
        """The smoothed first-order transition model (built once per profile object)."""
        if not self._model:
            self._model.append(
                TransitionModel.from_counts(self.transitions.counts, self.settings.transition_alpha)
            )
        return self._model[0]

    # -- JSON ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "n_runs": self.n_runs,
            "settings": self.settings.to_dict(),
            "tool_calls": self.tool_calls.to_dict(),
            "tool_by_step": {str(k): dict(v) for k, v in sorted(self.tool_by_step.items())},
            "transitions": self.transitions.to_dict(),
            "steps_histogram": {str(k): v for k, v in sorted(self.steps_histogram.items())},
            "args_validity": {k: list(v) for k, v in sorted(self.args_validity.items())},
            "tool_errors": {k: list(v) for k, v in sorted(self.tool_errors.items())},
            "completed": self.completed,
            "errored": self.errored,
            "policy_effects": dict(sorted(self.policy_effects.items())),
            "response_models": dict(sorted(self.response_models.items())),
            "numeric": {k: v.to_dict() for k, v in sorted(self.numeric.items())},
            "tool_latency_ms": {k: v.to_dict() for k, v in sorted(self.tool_latency_ms.items())},
            "response_schemas": {k: dict(v) for k, v in sorted(self.response_schemas.items())},
            "response_counts": dict(sorted(self.response_counts.items())),
            "outcomes": list(self.outcomes),
            "response_presence": {
                k: v.to_dict() for k, v in sorted(self.response_presence.items())
            },
            "response_sketches": {
                k: v.to_dict() for k, v in sorted(self.response_sketches.items())
            },
            "dominant_script": self.dominant_script.to_dict(),
            "bow": self.bow.to_dict(),
            "script_chars": dict(sorted(self.script_chars.items())),
            "sequence_sample": [list(s) for s in self.sequence_sample],
            # inf (no baseline runs) is not JSON: stored as null
            "sequence_threshold": (
                self.sequence_threshold if math.isfinite(self.sequence_threshold) else None
            ),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "profile") -> BehaviourProfile:
        """Rebuild a stored profile; a malformed one raises :class:`InputError` naming the field."""
        if d.get("format") != PROFILE_FORMAT:
            raise InputError(f"{source}: format: unsupported profile format {d.get('format')!r}")
        current = ["n_runs"]

        def get(key: str) -> Any:
            current[0] = key
            return d[key]

        try:
            out = cls(
                n_runs=int(get("n_runs")),
                settings=ProfileSettings.from_dict(get("settings")),
                tool_calls=CategoricalCounts.from_dict(get("tool_calls")),
                tool_by_step={int(k): _int_map(v) for k, v in get("tool_by_step").items()},
                transitions=CategoricalCounts.from_dict(get("transitions")),
                steps_histogram={int(k): int(v) for k, v in get("steps_histogram").items()},
                args_validity=_pair_map(get("args_validity")),
                tool_errors=_pair_map(get("tool_errors")),
                completed=int(get("completed")),
                errored=int(get("errored")),
                policy_effects=_int_map(get("policy_effects")),
                response_models=_int_map(get("response_models")),
                numeric={k: NumericSummary.from_dict(v) for k, v in get("numeric").items()},
                tool_latency_ms={
                    k: NumericSummary.from_dict(v) for k, v in get("tool_latency_ms").items()
                },
                response_schemas=dict(get("response_schemas")),
                response_counts=_int_map(get("response_counts")),
                response_sketches={
                    k: ResponseSketch.from_dict(v) for k, v in get("response_sketches").items()
                },
                dominant_script=CategoricalCounts.from_dict(get("dominant_script")),
                bow=CategoricalCounts.from_dict(get("bow")),
                script_chars=_int_map(get("script_chars")),
                sequence_sample=tuple(tuple(str(a) for a in s) for s in get("sequence_sample")),
                sequence_threshold=_threshold(get("sequence_threshold")),
                outcomes=(
                    int((d.get("outcomes") or (0, 0))[0]),
                    int((d.get("outcomes") or (0, 0))[1]),
                ),
                # absent from profiles stored before field presence was kept
                response_presence={
                    k: FieldPresence.from_dict(v)
                    for k, v in (d.get("response_presence") or {}).items()
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise InputError(f"{source}: {current[0]}: malformed profile ({exc})") from None
        return out


class ProfileBuilder:
    """Accumulates :class:`RunView`s into a :class:`BehaviourProfile` in one pass.

    Memory is bounded by the settings (reservoirs, sketches), the number of distinct tools,
    transitions and model ids, and the size of the inferred schemas; never by the run count.
    """

    def __init__(self, settings: ProfileSettings | None = None) -> None:
        self.settings = s = settings or ProfileSettings()
        self._rng = random.Random(s.seed)
        self.n_runs = 0
        self.completed = 0
        self.errored = 0
        self.tool_calls = _CategoricalAcc()
        self.transitions = _CategoricalAcc()
        self.dominant_script = _CategoricalAcc()
        self.bow = _DenseCategoricalAcc(s.bow_buckets)
        self.tool_by_step: dict[int, Counter[str]] = {}
        self.steps_histogram: Counter[int] = Counter()
        self.validity: dict[str, list[int]] = {}
        self.errors: dict[str, list[int]] = {}
        self.policy_effects: Counter[str] = Counter()
        self.response_models: Counter[str] = Counter()
        self.script_chars: Counter[str] = Counter()
        self.numeric = {name: _Reservoir(s.reservoir_size, self._rng) for name in RUN_FEATURES}
        self.tool_latency: dict[str, _Reservoir] = {}
        self.schemas: dict[str, SchemaAccumulator] = {}
        self.shapes: dict[str, set[Hashable]] = {}  # response shapes already given to genson
        self.presence: dict[str, FieldPresence] = {}
        self.outcomes = [0, 0]
        self.sketches: dict[str, _SketchAcc] = {}
        self.sequences = _Reservoir(s.reservoir_size, self._rng)

    def add(self, view: RunView) -> None:
        """Fold one run into the profile."""
        s = self.settings
        ctx = view.context
        if len(ctx.bow) != s.bow_buckets:
            raise InputError(
                f"run {view.trace_id}: context.bow: {len(ctx.bow)} buckets, but the profile's "
                f"settings.bow_buckets is {s.bow_buckets}; extract views with the same size"
            )
        self.n_runs += 1
        self.completed += view.completed
        if view.outcome is not None:
            self.outcomes[0] += view.outcome is Outcome.SUCCESS
            self.outcomes[1] += 1
            if view.outcome_score is not None:
                self.numeric["outcome_score"].add(view.outcome_score)
        self.errored += view.errored
        actions = view.actions
        n = len(actions)
        self.steps_histogram[n] += 1
        self.tool_calls.add_unit(Counter(actions))
        prev = START
        pairs: Counter[str] = Counter()
        for i, call in enumerate(view.tool_calls):
            tool = call.tool
            step = min(i, s.max_step_index)
            by_step = self.tool_by_step.get(step)
            if by_step is None:
                by_step = self.tool_by_step[step] = Counter()
            by_step[tool] += 1
            pairs[pair_key(prev, tool)] += 1
            prev = tool
            if call.args_valid is not None:
                v = self.validity.setdefault(tool, [0, 0])
                v[0] += call.args_valid
                v[1] += 1
            e = self.errors.setdefault(tool, [0, 0])
            e[0] += call.error
            e[1] += 1
            if call.latency_ms is not None:  # None: imported without times
                lat = self.tool_latency.get(tool)
                if lat is None:
                    lat = self.tool_latency[tool] = _Reservoir(s.reservoir_size, self._rng)
                lat.add(call.latency_ms)
            if call.has_result:
                acc = self.schemas.get(tool)
                if acc is None:
                    acc = self.schemas[tool] = SchemaAccumulator()
                    self.shapes[tool] = set()
                    self.presence[tool] = FieldPresence()
                self.presence[tool].add(call.result)
                shapes = self.shapes[tool]
                if call.response_shape not in shapes:
                    shapes.add(call.response_shape)
                    acc.add(call.result)
                else:
                    acc.count += 1
                sk = self.sketches.get(tool)
                if sk is None:
                    sk = self.sketches[tool] = _SketchAcc(s.response_keys)
                sk.add(call.args_key, call.response_key, call.response_unordered_key)
        pairs[pair_key(prev, END)] += 1
        self.transitions.add_unit(pairs)
        for p in view.policy:
            self.policy_effects[p.effect] += 1
        for llm in view.llm_calls:
            if llm.response_model is not None:
                self.response_models[llm.response_model] += 1
        self.dominant_script.add_unit({ctx.dominant_script: 1})
        self.bow.add_vector(ctx.bow)
        for script, c in ctx.script_chars:
            self.script_chars[script] += c
        num = self.numeric
        if view.latency_ms is not None:
            num["latency_ms"].add(view.latency_ms)
        num["tokens"].add(view.tokens)
        num["steps"].add(n)
        num["input_chars"].add(ctx.input_chars)
        num["turns"].add(ctx.turns)
        if ctx.tool_response_bytes:
            num["tool_response_bytes"].add(
                sum(ctx.tool_response_bytes) / len(ctx.tool_response_bytes)
            )
        self.sequences.add_item(actions)

    def finish(self) -> BehaviourProfile:
        """The profile of everything added so far (the builder stays usable)."""
        s = self.settings
        transitions = self.transitions.freeze()
        model = TransitionModel.from_counts(transitions.counts, s.transition_alpha)
        sample: tuple[tuple[str, ...], ...] = tuple(self.sequences.items)
        threshold = model.threshold(sample, s.sequence_quantile)
        return BehaviourProfile(
            n_runs=self.n_runs,
            settings=s,
            tool_calls=self.tool_calls.freeze(),
            tool_by_step={k: dict(sorted(v.items())) for k, v in sorted(self.tool_by_step.items())},
            transitions=transitions,
            steps_histogram=dict(sorted(self.steps_histogram.items())),
            args_validity={k: (v[0], v[1]) for k, v in sorted(self.validity.items())},
            tool_errors={k: (v[0], v[1]) for k, v in sorted(self.errors.items())},
            completed=self.completed,
            errored=self.errored,
            policy_effects=dict(self.policy_effects),
            response_models=dict(self.response_models),
            numeric={k: r.summary() for k, r in self.numeric.items()},
            tool_latency_ms={k: r.summary() for k, r in sorted(self.tool_latency.items())},
            response_schemas={k: a.schema() for k, a in sorted(self.schemas.items())},
            response_counts={k: a.count for k, a in sorted(self.schemas.items())},
            response_sketches={k: a.freeze() for k, a in sorted(self.sketches.items())},
            dominant_script=self.dominant_script.freeze(),
            bow=self.bow.freeze(),
            script_chars=dict(self.script_chars),
            sequence_sample=sample,
            sequence_threshold=threshold,
            outcomes=(self.outcomes[0], self.outcomes[1]),
            response_presence={
                k: FieldPresence.from_dict(v.to_dict()) for k, v in sorted(self.presence.items())
            },
            _model=[model],
        )


def build_profile(
    runs: Iterable[RunView], settings: ProfileSettings | None = None
) -> BehaviourProfile:
    """The behaviour profile of ``runs``, in one streaming pass (see :class:`ProfileBuilder`)."""
    builder = ProfileBuilder(settings)
    for view in runs:
        builder.add(view)
    return builder.finish()
