"""Judge probes: how far to trust a verdict, checked on every run.

Modules:

=================  ===========================================================================
``controls``       control results with known right verdicts (identity, blank, noise, the two
                   mismatches, degraded, over-edit) and their expected direction per kind
``checks``         reading a judge's verdict on a control: right, wrong or undecidable
``summary``        per judge: control accuracy, real-vs-control gap, the flag rule
``control_stage``  judging the controls of a run and recording them
``canaries``       the fixed canary set, its baseline and the drift rule (cache bypassed)
``pinning``        the resolved model identity of every judgement; undated aliases warned
``bias``           position bias of pairwise judges; plan-length effects of plan judges
``stability``      rank stability per suite, judge and score (expected ranks, swap probabilities)
``guard``          in-sample judges of trained systems; each system's track and costs
``stage``          :func:`run_probes` (``editbench probe``) and :func:`after_judging` (the hook)
=================  ===========================================================================

What the leaderboard reads (no judge code needed; every line also carries ``v``). In
``probes.jsonl``, the latest record per (``kind``, ``judge_id`` or ``system_id``, ``suite``,
``score``) wins (:func:`latest`):

* ``control`` — one per (judge, sample, control): ``judge_id, version, suite, sample_id, control,
  real_system_id, partner, image, real_image, same_image, expect{goal,preserve,quality,overall},
  status, scores, na, verdicts, draws, error, rationale, raw, model_resolved, endpoint_host,
  real_status, real_scores, basis (verdicts|scores|none), checks[{on, id, kind, expect, outcome
  (right|wrong|undecidable), got, real, why}], outcome (pass|fail|undecidable), at``. A record with
  ``control: "real"`` is the probe's own judgement of a real result the judge had not judged.
* ``control_summary`` — per judge: ``status (ok|flagged|insufficient|n/a), reason, headline,
  accuracy{value, low, high, n, right, decided, undecidable}, by_control{control: {pass, fail,
  undecidable, right, decided, accuracy}}, gaps{score: {kind, value, low, high, n, p_value,
  real_mean, control_mean, normalised, range, real_sd, effect, by_control}}, outcomes, basis,
  samples, controls_judged, seed, rule, version, at``.
* ``pinning`` — per judge: ``status (pinned|undated|mixed|unknown|n/a), warnings[], notes[],
  model_requested, requested_dated, models{name: judgements}, hosts{host: judgements},
  judgements, with_identity, undated_judgements, backend, prompt_hash, templates, sampling, at``.
* ``position_bias`` — per judge: ``status (ok|n/a), rate{value, low, high, n}, pairs,
  comparisons, flipped, identical_skipped, definition`` (or ``reason``).
* ``length_bias`` — per judge: ``status (ok|n/a), scores{score: {overall{value, low, high, n},
  within_sample{...}, effect (positive|negative|none), words_mean}}, min_plans`` (or ``reason``).
* ``stability`` — per (suite, judge, score): ``higher_is_better, n_samples, n_resamples, draws,
  systems[{system_id, mean, rank, expected_rank, rank_low, rank_high}] (best expected rank first),
  swap{a: {b: probability the observed order of a and b flips}}, unsettled[[a, b, p]] (p >
  threshold), threshold, in_sample[system ids trained on this judge]``.
* ``guard`` — per trained system: ``system_id, trained, reward_judge, status (guarded|reward judge
  not run|undeclared), in_sample[{judge_id, match (id|spec|name)}], held_out[judge ids, preferred
  first], note``.
* ``track`` — per system: ``system_id, track, family, trained, reward_judge, oracle, models,
  tools, warnings, edits, dollars, dollars_per_edit, tool_calls_per_edit, seconds_per_edit``.

In ``canaries.jsonl``: ``baseline`` (per judge and canary set: ``canaries{id: {status, scores,
verdicts, error, model_resolved, endpoint_host}}, keys, model_resolved, at``; the first one per
judge is the baseline) and ``check`` (one per judge run: ``status (baseline|ok|drift|error|n/a),
reasons[], tolerance, scores{score: {n, mean_shift, mean_abs_shift, max_abs_shift,
tolerance_abs, drift}}, verdict_flips{changed, of}, errors, canaries, notes[], model_resolved,
baseline_model_resolved, model_changed, cache (bypassed|off|none), baseline_at, at``); the
latest check of a judge is its drift status. ``probe_error`` (``judge_id, error``) in
``probes.jsonl`` says the hook could not probe a judge (a bug, logged).
"""

from .canaries import CANARY_SET_VERSION, DEFAULT_TOLERANCE, canary_set, run_canaries
from .checks import headline_score, score_kind
from .control_stage import ControlPlan, run_controls
from .controls import CONTROLS, CONTROLS_VERSION, EXPECT
from .pinning import check_pinning, is_dated
from .stage import AUTO_SAMPLES, JudgeProbe, ProbeOptions, ProbeReport, after_judging, latest, run_probes

__all__ = [
    "AUTO_SAMPLES",
    "CANARY_SET_VERSION",
    "CONTROLS",
    "CONTROLS_VERSION",
    "DEFAULT_TOLERANCE",
    "EXPECT",
    "ControlPlan",
    "JudgeProbe",
    "ProbeOptions",
    "ProbeReport",
    "after_judging",
    "canary_set",
    "check_pinning",
    "headline_score",
    "is_dated",
    "latest",
    "run_canaries",
    "run_controls",
    "run_probes",
    "score_kind",
]
