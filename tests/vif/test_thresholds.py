"""Learn-then-Test κ suggestions: the guarantee holds whatever the shape of the risk in κ, the suggestion
covers more than the walk it replaced, it is the same on every recomputation, and it matches MAPIE where
the procedures coincide."""

import uuid
import warnings

import numpy as np
import pytest
from mapie.risk_control import BinaryClassificationController, precision
from mapie.risk_control.methods import compute_hoeffding_bentkus_p_value
from scipy import stats

from tests.vif import kappa_simulation as sim
from vifsite.vif import thresholds

# Realised risk above α in at most this many of 500 runs: the 99.9 % binomial upper bound of 5 % of them.
VIOLATIONS_ALLOWED = stats.binom.ppf(0.999, sim.RUNS, thresholds.DELTA)


# --- Simulation ----------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("alpha", sim.ALPHAS)
@pytest.mark.parametrize("n", sim.NS)
@pytest.mark.parametrize("curve", sim.CURVES)
def test_the_suggested_kappa_keeps_the_risk_at_alpha(curve, n, alpha):
    result = sim.simulate(curve, n, alpha)
    assert result.violations <= VIOLATIONS_ALLOWED, result


@pytest.mark.slow
@pytest.mark.parametrize("n", [1000, 5000])
@pytest.mark.parametrize("alpha", [0.15, 0.30])
def test_an_over_confident_top_bin_no_longer_stops_the_suggestion(n, alpha):
    result = sim.simulate("over-confident at the top", n, alpha)
    assert result.walk_alone_refused >= 0.95 * sim.RUNS  # the walk it replaced: almost always nothing
    assert result.refused <= 0.02 * sim.RUNS
    assert result.coverage >= 0.9 * result.oracle_coverage


@pytest.mark.slow
def test_the_pair_of_sequences_covers_more_than_the_alternatives():
    """Why this procedure: over the 45 configurations it covers more than the walk alone, the split
    sequence alone or Holm over the grid, and where the walk already worked it costs little."""
    results = [sim.simulate(curve, n, alpha) for curve in sim.CURVES for n in sim.NS for alpha in sim.ALPHAS]
    chosen = sum(r.coverage for r in results)
    assert chosen > 1.15 * sum(r.walk_alone_coverage for r in results)
    assert chosen > sum(r.split_alone_coverage for r in results)
    assert chosen > 1.03 * sum(r.holm_coverage for r in results)
    assert all(r.coverage >= r.walk_alone_coverage - 0.1 for r in results)
    oracle = [r for r in results if r.oracle_coverage > 0]
    assert np.mean([r.coverage / r.oracle_coverage for r in oracle]) >= 0.65


@pytest.mark.slow
def test_a_well_ranked_score_keeps_useful_coverage():
    result = sim.simulate("well-ranked", 1000, 0.10)
    assert result.refused < 0.05 * sim.RUNS
    assert result.coverage >= 0.45


@pytest.mark.slow
def test_an_over_confident_score_gets_no_suggestion():
    assert sim.simulate("over-confident everywhere", 1000, 0.05).refused >= 0.99 * sim.RUNS


def test_the_curves_true_risks_are_what_they_claim():
    curves = sim.curves()
    well, top, verbal = curves["well-ranked"], curves["over-confident at the top"], curves["verbalised, non-monotone"]
    kappa = sim.KAPPAS
    np.testing.assert_allclose(well.risk, 0.4 / 0.25 * (1 - kappa) ** 2 / 3, rtol=1e-4)  # mean of the curve on [κ, 1]
    np.testing.assert_allclose(well.coverage, (1 - kappa) / 0.5, rtol=1e-4)
    assert top.risk[0] == pytest.approx(0.35) and top.risk[-1] < 0.15  # wrong at the top, fine overall
    assert verbal.risk[thresholds.GRID.index(0.95)] > verbal.risk[thresholds.GRID.index(0.9)]  # not monotone
    assert verbal.oracle(0.15) == (0.61, pytest.approx(0.87))


# --- Worked examples -------------------------------------------------------------------------------------------

def ids(n, prefix="w"):
    return [f"{prefix}{i}" for i in range(n)]


def test_n_start_and_the_walk_on_a_worked_example():
    assert thresholds.n_start(0.05, 10_000) >= 59  # ⌈ln 0.05 / ln 0.95⌉
    assert thresholds.n_start(0.05, 100) == max(59, 25)
    assert thresholds.n_power(0.05) > 59
    c = np.array([0.99] * 200 + [0.7] * 200)
    y = np.array([1] * 200 + [0] * 200)
    s = thresholds.suggest(c, y, alpha=0.05, keys=ids(400))
    assert s.kappa == 0.71 and s.accepted == 200 and s.errors == 0 and s.coverage == 0.5
    assert "walk" in s.certified_by
    # The walk now runs at δ/2 (the split sequence has the other half), so its bound is at 1 − δ/2.
    assert s.as_dict()["upper_bound"] == pytest.approx(1 - 0.025 ** (1 / 200), rel=1e-9)
    assert thresholds.suggest(c[:10], y[:10], alpha=0.05).kappa is None


def test_an_over_confident_top_bin_is_passed_by():
    """The most confident 5 % are wrong 40 % of the time; below them the error is 4 %. The walk stops at
    the top; the split sequence certifies κ = 0.50 (everything, error 5.8 % ≤ α = 0.15)."""
    c = np.array([0.99] * 100 + [0.8] * 1900)
    y = np.array(([0] * 2 + [1] * 3) * 20 + ([0] + [1] * 24) * 76)
    s = thresholds.suggest(c, y, alpha=0.15, keys=ids(2000))
    assert s.kappa == 0.5 and s.certified_by == ("split",) and s.coverage == 1.0
    evidence = s.as_dict()
    top = evidence["tested"][0]
    assert top["kappa"] == 0.99 and top["walk"] == "failed" and top["split"] in ("failed", "not reached", "passed")
    assert all(t["walk"] in ("failed", "not reached") for t in evidence["tested"])
    # The walk alone, at full δ, would suggest nothing.
    every = thresholds.count(thresholds.to_micros(c), y == 0)
    _, _, walked, _ = thresholds.walk(every, alpha=0.15, n=2000, level=thresholds.DELTA)
    assert not walked.any()
    assert evidence["upper_bound"] <= 0.15 and evidence["why_none"] is None


def test_the_split_is_the_same_on_every_recomputation():
    rng = np.random.default_rng(5)
    c = np.round(rng.uniform(0.5, 1.0, 1500), 3)
    y = (rng.random(1500) >= sim.over_confident_top(c)).astype(int)
    keys = [str(uuid.UUID(int=int(x))) for x in rng.integers(0, 2**63, 1500)]
    first = thresholds.suggest(c, y, alpha=0.15, keys=keys).as_dict()
    assert thresholds.suggest(c, y, alpha=0.15, keys=keys).as_dict() == first
    shuffled = rng.permutation(1500)
    again = thresholds.suggest(c[shuffled], y[shuffled], alpha=0.15, keys=[keys[i] for i in shuffled]).as_dict()
    assert again == first  # the order samples arrive in changes nothing
    part = thresholds.order_part_of(keys, 1500)
    assert np.array_equal(thresholds.order_part_of(keys[:700], 700), part[:700])  # new samples move no old one
    assert first["split"]["order_samples"] == part.sum()
    assert stats.binom.cdf(part.sum(), 1500, 0.2) > 1e-4 and stats.binom.sf(part.sum(), 1500, 0.2) > 1e-4
    # The part a sample is in follows from its id alone, never from its label.
    flipped = thresholds.suggest(c, 1 - y, alpha=0.15, keys=keys).as_dict()
    assert flipped["split"] == first["split"]


def test_unresolved_samples_count_as_errors():
    c = np.array([0.99] * 300 + [0.7] * 300)
    y = np.array([1] * 300 + [0] * 300)
    missing = np.zeros(600, dtype=bool)
    missing[:30] = True  # 30 of the confident ones never got a verdict
    keys = ids(600)
    with_missing = thresholds.suggest(c, y, alpha=0.05, keys=keys, unresolved=missing)
    as_errors = thresholds.suggest(c, np.where(missing, 0, y), alpha=0.05, keys=keys)
    assert with_missing.kappa is None and as_errors.kappa is None
    assert with_missing.tested == as_errors.tested and with_missing.unresolved == 30
    assert thresholds.suggest(c, y, alpha=0.05, keys=keys).kappa == 0.71  # ignored, they would not count
    why = with_missing.as_dict()["why_none"]
    assert why["code"] == "every_threshold_failed" and "30 calibration samples without a label" in why["message"]


def test_why_none_says_too_few_samples():
    s = thresholds.suggest([0.95] * 40, [1] * 40, alpha=0.05, keys=ids(40))
    why = s.as_dict()["why_none"]
    assert s.kappa is None and why["code"] == "too_few_samples"
    assert f"needs {thresholds.n_start(0.05, 40, 0.025)} accepted" in why["message"]
    assert s.as_dict()["floor"] == 0.0
    # Confidences below the grid: plenty of samples, none of them on it.
    low = thresholds.suggest([0.3] * 2000, [1] * 2000, alpha=0.05, keys=ids(2000)).as_dict()["why_none"]
    assert low["code"] == "too_few_samples" and "0 of 2000" in low["message"]


def test_the_floor_is_the_least_share_any_kappa_must_send_to_a_human():
    """850 answers erring at exactly α = 0.15 and 150 always wrong: μ = 0.2775, and at most the 850 can be
    accepted at risk ≤ α, so at least 15 % go to a human: (μ − α)/(1 − α) = 0.15."""
    c = np.array([0.99] * 850 + [0.6] * 150)
    y = np.array([1] * 722 + [0] * 128 + [0] * 150)
    s = thresholds.suggest(c, y, alpha=0.15, keys=ids(1000))
    evidence = s.as_dict()
    assert evidence["base_error"] == pytest.approx(0.278) and evidence["floor"] == pytest.approx(0.15, abs=0.002)
    assert s.kappa is None and "at least 15% of items must go to a human" in evidence["why_none"]["message"]
    assert "μ = 0.278 exceeds α = 0.15" in evidence["why_none"]["message"]
    # Under α there is no floor, and a certified κ never covers more than 1 − floor.
    assert thresholds.floor(0.10, 0.15) == 0.0
    floors = 0
    for curve in sim.curves().values():
        if curve.coverage[-1] < 1:
            continue  # some items below the grid: the base error is not the risk at κ = 0.50
        for alpha in sim.ALPHAS:
            floors += thresholds.floor(curve.risk[-1], alpha) > 0
            assert curve.oracle(alpha)[1] <= 1 - thresholds.floor(curve.risk[-1], alpha) + 1e-9
    assert floors >= 3


def test_suggest_runs_the_tests_the_simulation_runs():
    """The simulation calls the counting and testing functions directly, on many runs at once; suggest must
    come to the same κ on each run."""
    rng = np.random.default_rng(11)
    curve = sim.curves()["calibrated sigmoid"]
    confidence, p_wrong = curve.draw(rng, 12, 800)
    wrong = rng.random((12, 800)) < p_wrong
    keys = [ids(800, f"r{run}-") for run in range(12)]
    ordering = np.array([thresholds.order_part_of(k, 800) for k in keys])
    micros = thresholds.to_micros(confidence)
    tests = thresholds.run_tests(thresholds.count(micros, wrong), thresholds.count(micros, wrong, include=ordering),
                                 thresholds.count(micros, wrong, include=~ordering), alpha=0.15, n=800)
    batch = [None if b < 0 else thresholds.GRID[b] for b in tests.best()]
    one_by_one = [thresholds.suggest(confidence[run], ~wrong[run], alpha=0.15, keys=keys[run]).kappa
                  for run in range(12)]
    assert batch == one_by_one and len({k for k in batch if k is not None}) > 1


def constant_quarter(c):
    return np.full_like(c, 0.25)  # confident, and wrong a quarter of the time whatever it says


def true_risk(curve, kappa):
    """Error among accepted (c ≥ κ) for c ~ U(0.5, 1), by quadrature."""
    grid = np.linspace(kappa, 1.0, 2001)
    return float(np.mean(curve(grid)))


def test_a_fixed_step_rule_would_break_the_guarantee():
    """The rule this replaces (κ ± 0.05 when the observed error is off target) has no guarantee:
    with few samples it lowers κ on noise. Shown here so nobody ships it."""
    rng = np.random.default_rng(0)
    exceed = 0
    for _ in range(300):
        c = rng.uniform(0.5, 1.0, 300)
        correct = (rng.random(300) >= constant_quarter(c)).astype(int)
        kappa = 0.95
        accepted = c >= kappa
        observed = 1 - correct[accepted].mean() if accepted.any() else 0.0
        kappa = kappa - 0.05 if observed <= 0.05 else kappa + 0.05
        exceed += true_risk(constant_quarter, min(kappa, 0.99)) > 0.05
    assert exceed > 0.05 * 300


# --- MAPIE (risk control, Learn-then-Test) on the same data ----------------------------------------------------

def mapie_binary_p_value(errors, accepted, alpha):
    """MAPIE's binary Hoeffding–Bentkus p-value for the precision risk, given counts: its risk is
    1 − (correct among accepted)/accepted, as it computes it."""
    m = np.asarray(accepted, dtype=float)
    risk = 1 - (m - np.asarray(errors)) / m
    return compute_hoeffding_bentkus_p_value(risk, m, alpha, binary=True)[:, 0], np.ceil(m * risk) != errors


@pytest.mark.parametrize("alpha", [0.05, 0.15, 0.30])
def test_the_p_values_are_mapies(alpha):
    """The same exact binomial tail wherever MAPIE's floating-point m·r̂ gives back the error count; where it
    rounds up by one, MAPIE's is the larger (more conservative) one."""
    m = np.repeat(np.arange(1, 301), 301)
    k = np.tile(np.arange(301), 300)
    m, k = m[k <= m], k[k <= m]
    theirs, rounded_up = mapie_binary_p_value(k, m, alpha)
    ours = thresholds.p_values(k, m, alpha)
    np.testing.assert_allclose(ours[~rounded_up], theirs[~rounded_up], rtol=1e-12, atol=0)
    assert np.all(theirs[rounded_up] >= ours[rounded_up]) and (~rounded_up).sum() > 0.7 * m.size
    powers = np.isin(m, 2 ** np.arange(9))
    assert not rounded_up[powers].any()  # with m a power of two MAPIE's arithmetic is exact


# Verbalised confidences, per level (high to low): how many samples and how many wrong, in each part of the
# split. Every accepted count is a power of two in each part and in both together, so MAPIE's floating-point
# risk gives back the exact error counts and the two implementations must agree exactly. Built so that each
# sequence stops at a failure with a threshold after it that would have passed.
LEVELS = [0.99, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5]
PER_LEVEL = [32, 32, 64, 128, 256, 512, 1024, 2048]
WRONG_ORDER_PART = [1, 6, 1, 22, 25, 70, 175, 340]
WRONG_TEST_PART = [0, 4, 4, 25, 23, 94, 150, 340]


def split_keys(n_order, n_test):
    """Witness-like ids that the hash puts in the order part, then ids it puts in the test part."""
    candidates = [str(uuid.UUID(int=i * 7919 + 1)) for i in range(6 * (n_order + n_test))]
    in_order = thresholds.order_part_of(candidates, len(candidates))
    ordering = [k for k, o in zip(candidates, in_order, strict=True) if o][:n_order]
    testing = [k for k, o in zip(candidates, in_order, strict=True) if not o][:n_test]
    assert len(ordering) == n_order and len(testing) == n_test
    return ordering, testing


def constructed_samples():
    def part(wrong_per_level):
        c, y = [], []
        for level, count, wrong in zip(LEVELS, PER_LEVEL, wrong_per_level, strict=True):
            c += [level] * count
            y += [0] * wrong + [1] * (count - wrong)
        return np.array(c), np.array(y)

    (c_order, y_order), (c_test, y_test) = part(WRONG_ORDER_PART), part(WRONG_TEST_PART)
    order_keys, test_keys = split_keys(c_order.size, c_test.size)
    return (np.concatenate([c_order, c_test]), np.concatenate([y_order, y_test]), order_keys + test_keys,
            (c_order, y_order), (c_test, y_test))


def predict_proba(x):
    x = np.asarray(x, dtype=float)
    return np.column_stack([1 - x, x])


def mapie_controller(alpha, params, fwer_method):
    return BinaryClassificationController(predict_proba, precision, target_level=1 - alpha,
                                          confidence_level=1 - thresholds.DELTA / 2,
                                          list_predict_params=np.array(params), fwer_method=fwer_method)


def test_the_split_sequence_is_mapies_split_fixed_sequence():
    alpha = 0.15
    c, y, keys, (c_order, y_order), (c_test, y_test) = constructed_samples()
    assert thresholds.order_part_of(keys, len(keys)).sum() == c_order.size
    evidence = thresholds.suggest(c, y, alpha=alpha, keys=keys).as_dict()
    at = {t["kappa"]: t for t in evidence["tested"]}
    # One κ per distinct accepted set: the level itself (the grid values between accept the same samples).
    controller = mapie_controller(alpha, sorted(LEVELS), "split_fixed_sequence")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MAPIE warns that the risk is not monotone: that is the point
        controller.learn_fixed_sequence_order(c_order, y_order, binary=True)
        controller.calibrate(c_test, y_test)
    # The learned order is a private attribute of MAPIE 1.6 (pinned in requirements.txt).
    mapie_order = [round(float(k), 2) for k in controller._learned_fixed_sequence]
    assert mapie_order == sorted(LEVELS, key=lambda k: at[k]["split_rank"])
    assert mapie_order[:4] == [0.9, 0.8, 0.7, 0.99]
    np.testing.assert_allclose(controller.p_values[:, 0], [at[k]["test_p_value"] for k in mapie_order], rtol=1e-12)
    valid = sorted(round(float(k), 2) for k in controller.valid_predict_params)
    assert valid == sorted(k for k in LEVELS if at[k]["split"] == "passed") == [0.8, 0.9]
    # 0.61 … 0.70 accept the same samples; the first of them in the order (the most coverage) is the failure.
    assert at[0.61]["split"] == "failed" and at[0.7]["split"] == at[0.99]["split"] == "not reached"
    assert at[0.99]["test_p_value"] <= thresholds.DELTA / 2  # it would have passed: the sequence stopped
    assert evidence["suggested_kappa"] == 0.71 and evidence["certified_by"] == ["split"]


def test_the_walk_is_mapies_fixed_sequence():
    alpha = 0.15
    c, y, keys, *_ = constructed_samples()
    evidence = thresholds.suggest(c, y, alpha=alpha, keys=keys).as_dict()
    at = {t["kappa"]: t for t in evidence["tested"]}
    assert at[0.99]["walk"] == "skipped"  # 64 accepted, fewer than n_start
    walked = [k for k in LEVELS if at[k]["walk"] != "skipped"]  # from the top down, as the walk goes
    controller = mapie_controller(alpha, walked, "fixed_sequence")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        controller.calibrate(c, y)
    np.testing.assert_allclose(controller.p_values[:, 0], [at[k]["p_value"] for k in walked], rtol=1e-12)
    valid = sorted(round(float(k), 2) for k in controller.valid_predict_params)
    assert valid == sorted(k for k in walked if at[k]["walk"] == "passed") == [0.9, 0.95]
    assert at[0.85]["walk"] == "failed" and at[0.8]["walk"] == "not reached" and at[0.8]["p_value"] <= 0.025


def test_the_holm_baseline_is_mapies_bonferroni_holm():
    """The simulation's Holm (the alternative not chosen) is MAPIE's, on the same p-values."""
    from mapie.risk_control.fwer_control import control_fwer

    rng = np.random.default_rng(2)
    c = rng.uniform(0.5, 1.0, (1, 3000))
    wrong = rng.random((1, 3000)) < sim.over_confident_top(c)
    counts = thresholds.count(thresholds.to_micros(c), wrong)
    ours = sim.holm(counts, alpha=0.15, level=0.05)[0]
    tried = counts.accepted[0] >= thresholds.min_accepted(0.15, 0.05)
    p = thresholds.p_values(counts.errors, counts.accepted, 0.15)[0]
    theirs = np.flatnonzero(tried)[control_fwer(p[tried], 0.05, "bonferroni_holm")]
    assert np.array_equal(np.flatnonzero(ours), theirs) and 0 < theirs.size < tried.sum()
