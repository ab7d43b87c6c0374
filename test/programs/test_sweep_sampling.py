"""Sampling in sweep_lib: the sampler and pruner built from config.json (with the settings names the
TypeScript side writes, src/core/sweep/algorithms.ts), each worker's seed, constraints, the grid, and the
define-by-run search space with conditional parameters."""
import math

import optuna
import pytest

import sweep_lib as L

optuna.logging.set_verbosity(optuna.logging.WARNING)

PARAMETERS = [
    {"name": "lr", "type": "float", "low": 1e-5, "high": 0.1, "log": True},
    {"name": "layers", "type": "int", "low": 2, "high": 8, "step": 2, "log": False},
    {"name": "optimizer", "type": "categorical", "choices": ["sgd", "adamw"]},
    {"name": "momentum", "type": "float", "low": 0.5, "high": 0.9, "step": 0.1, "log": False,
     "when": {"parameter": "optimizer", "values": ["sgd"]}},
    {"name": "nesterov", "type": "categorical", "choices": [True, False],
     "when": {"parameter": "momentum", "values": [0.9]}},
]


def config(sampler, constraints=(), parameters=PARAMETERS, pruner=None):
    return {"sampler": sampler, "constraints": list(constraints), "parameters": parameters,
            "pruner": pruner or {"kind": "none", "settings": {}}}


# ---------------------------------------------------------------------------------------------
# Samplers

SAMPLERS = {
    "tpe": ({"n_startup_trials": 5, "n_ei_candidates": 12, "multivariate": True, "group": True, "constant_liar": True}, optuna.samplers.TPESampler),
    "random": ({}, optuna.samplers.RandomSampler),
    "grid": ({}, optuna.samplers.GridSampler),
    "cmaes": ({"sigma0": 0.5, "n_startup_trials": 2, "use_separable_cma": True}, optuna.samplers.CmaEsSampler),
    "nsga2": ({"population_size": 20, "mutation_prob": 0.1, "crossover_prob": 0.8, "swapping_prob": 0.4}, optuna.samplers.NSGAIISampler),
    "qmc": ({"qmc_type": "halton", "scramble": True}, optuna.samplers.QMCSampler),
}


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
@pytest.mark.parametrize("kind", sorted(SAMPLERS))
def test_every_sampler_kind_builds_the_optuna_sampler_with_its_settings(kind):
    settings, cls = SAMPLERS[kind]
    sampler = L.make_sampler(config({"kind": kind, "seed": 7, "settings": settings}), 0, 0)
    assert type(sampler) is cls


def test_an_unknown_sampler_stops_the_job():
    with pytest.raises(SystemExit) as e:
        L.make_sampler(config({"kind": "bayes", "settings": {}}), 0, 0)
    assert e.value.code == L.EXIT_STOP_JOB


@pytest.fixture
def fake_samplers(monkeypatch, recorder):
    fakes = {name: recorder() for name in ("TPESampler", "RandomSampler", "GridSampler", "CmaEsSampler", "NSGAIISampler", "QMCSampler")}
    for name, fake in fakes.items():
        monkeypatch.setattr(optuna.samplers, name, fake)
    return fakes


def test_each_worker_gets_its_own_seed_stream_from_the_seed_the_worker_index_and_the_trials_so_far(fake_samplers):
    cfg = config({"kind": "tpe", "seed": 42, "settings": {"n_startup_trials": 5}})
    L.make_sampler(cfg, 0, 0)
    L.make_sampler(cfg, 1, 0)
    L.make_sampler(cfg, 1, 3)
    L.make_sampler(config({"kind": "tpe", "seed": 2 ** 31 - 1, "settings": {}}), 1, 0)
    seeds = [kw["seed"] for _, kw in fake_samplers["TPESampler"].calls]
    assert seeds == [42, 42 + 7919, 42 + 7919 + 3 * 104729, (2 ** 31 - 1 + 7919) % 2 ** 31]
    assert fake_samplers["TPESampler"].calls[0][1]["n_startup_trials"] == 5


def test_qmc_workers_share_one_sequence_and_no_seed_stays_no_seed(fake_samplers):
    L.make_sampler(config({"kind": "qmc", "seed": 42, "settings": {"qmc_type": "sobol"}}), 3, 9)
    L.make_sampler(config({"kind": "random", "seed": None, "settings": {}}), 3, 9)
    assert fake_samplers["QMCSampler"].calls == [((), {"seed": 42, "qmc_type": "sobol"})]
    assert fake_samplers["RandomSampler"].calls == [((), {"seed": None})]


def test_random_ignores_settings_and_the_config_is_not_modified(fake_samplers):
    sampler = {"kind": "random", "seed": 1, "settings": {"n_startup_trials": 5}}
    cfg = config(sampler, constraints=[{"metric": "latency", "max": 50}])
    L.make_sampler(cfg, 0, 0)
    assert fake_samplers["RandomSampler"].calls == [((), {"seed": 1})]
    assert sampler == {"kind": "random", "seed": 1, "settings": {"n_startup_trials": 5}}


@pytest.mark.parametrize("kind, cls", [("tpe", "TPESampler"), ("nsga2", "NSGAIISampler")])
def test_constraints_reach_the_samplers_that_take_them(fake_samplers, kind, cls):
    L.make_sampler(config({"kind": kind, "settings": {}}, constraints=[{"metric": "latency", "max": 50}]), 0, 0)
    L.make_sampler(config({"kind": kind, "settings": {}}), 0, 0)
    with_constraints, without = fake_samplers[cls].calls
    assert callable(with_constraints[1]["constraints_func"])
    assert "constraints_func" not in without[1]


def test_other_samplers_get_no_constraints(fake_samplers):
    L.make_sampler(config({"kind": "cmaes", "settings": {}}, constraints=[{"metric": "latency", "max": 50}]), 0, 0)
    assert "constraints_func" not in fake_samplers["CmaEsSampler"].calls[0][1]


def test_the_grid_sampler_gets_every_parameter_s_grid(fake_samplers):
    params = [{"name": "layers", "type": "int", "low": 2, "high": 8, "step": 2}, {"name": "opt", "type": "categorical", "choices": ["sgd", "adamw"]}]
    L.make_sampler(config({"kind": "grid", "seed": 3, "settings": {}}, parameters=params), 0, 0)
    assert fake_samplers["GridSampler"].calls == [(({"layers": [2, 4, 6, 8], "opt": ["sgd", "adamw"]},), {"seed": 3})]


class Trial:
    def __init__(self, **attrs):
        self.user_attrs = {"metric:" + k: v for k, v in attrs.items()}


def test_constraints_are_feasible_at_zero_or_below_and_a_missing_value_is_infeasible():
    f = L.constraints_func({"constraints": [{"metric": "latency", "max": 50}, {"metric": "acc", "min": 0.8}, {"metric": "mem", "min": 1, "max": 4}]})
    # One value per bound, the upper one first: value - max, min - value.
    assert f(Trial(latency=40, acc=0.9, mem=2)) == [-10.0, pytest.approx(-0.1), -2.0, -1.0]
    assert f(Trial(latency=60, acc=0.5, mem=5)) == [10.0, pytest.approx(0.3), 1.0, -4.0]
    assert f(Trial(latency=float("nan"), acc="0.9")) == [1e18, 1e18, 1e18, 1e18]


# ---------------------------------------------------------------------------------------------
# Grid values

@pytest.mark.parametrize("p, values", [
    ({"type": "categorical", "choices": ["a", 1, True]}, ["a", 1, True]),
    ({"type": "int", "low": 2, "high": 8, "step": 2}, [2, 4, 6, 8]),
    ({"type": "int", "low": -1, "high": 2}, [-1, 0, 1, 2]),
    ({"type": "float", "low": 0.5, "high": 0.9, "step": 0.1}, [0.5, 0.6, 0.7, 0.8, 0.9]),
    ({"type": "float", "low": 0.0, "high": 1.0, "step": 0.25}, [0.0, 0.25, 0.5, 0.75, 1.0]),
])
def test_grid_values(p, values):
    assert L.grid_values(p) == values


def test_float_grid_points_are_rounded_to_twelve_digits_and_stay_within_bounds():
    values = L.grid_values({"type": "float", "low": 0.1, "high": 0.7, "step": 0.1})
    assert values == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]  # not 0.30000000000000004
    assert all(0.1 <= v <= 0.7 for v in values)


# ---------------------------------------------------------------------------------------------
# Pruners

PRUNERS = {
    "none": ({}, optuna.pruners.NopPruner),
    "median": ({"n_startup_trials": 3, "n_warmup_steps": 2, "interval_steps": 1, "n_min_trials": 2}, optuna.pruners.MedianPruner),
    "percentile": ({"percentile": 25, "n_startup_trials": 3}, optuna.pruners.PercentilePruner),
    "successive-halving": ({"min_resource": "auto", "reduction_factor": 3, "min_early_stopping_rate": 1}, optuna.pruners.SuccessiveHalvingPruner),
    "hyperband": ({"min_resource": 2, "max_resource": 20, "reduction_factor": 3}, optuna.pruners.HyperbandPruner),
    "threshold": ({"lower": 0.1, "upper": 5, "n_warmup_steps": 1, "interval_steps": 2}, optuna.pruners.ThresholdPruner),
}


@pytest.mark.parametrize("kind", sorted(PRUNERS))
def test_every_pruner_kind_builds_the_optuna_pruner_with_its_settings(kind):
    settings, cls = PRUNERS[kind]
    assert type(L.make_pruner({"pruner": {"kind": kind, "settings": settings}})) is cls


def test_pruner_settings_are_passed_as_given():
    pruner = L.make_pruner({"pruner": {"kind": "threshold", "settings": {"lower": 0.1, "upper": 5, "n_warmup_steps": 1, "interval_steps": 2}}})
    assert (pruner._lower, pruner._upper, pruner._n_warmup_steps, pruner._interval_steps) == (0.1, 5.0, 1, 2)


# ---------------------------------------------------------------------------------------------
# The search space: define-by-run, conditional parameters

class ScriptedTrial:
    """A trial that answers each suggestion from a table, recording what was asked."""

    def __init__(self, answers):
        self.answers, self.asked = answers, []

    def suggest_int(self, name, low, high, step=1, log=False):
        self.asked.append(("int", name, low, high, step, log))
        return self.answers[name]

    def suggest_float(self, name, low, high, step=None, log=False):
        self.asked.append(("float", name, low, high, step, log))
        return self.answers[name]

    def suggest_categorical(self, name, choices):
        self.asked.append(("categorical", name, tuple(choices)))
        return self.answers[name]


def test_a_conditional_parameter_is_asked_only_when_its_parent_has_a_listed_value():
    sgd = ScriptedTrial({"lr": 0.01, "layers": 4, "optimizer": "sgd", "momentum": 0.9, "nesterov": True})
    assert L.suggest(sgd, PARAMETERS) == {"lr": 0.01, "layers": 4, "optimizer": "sgd", "momentum": 0.9, "nesterov": True}
    assert sgd.asked == [("float", "lr", 1e-5, 0.1, None, True), ("int", "layers", 2, 8, 2, False), ("categorical", "optimizer", ("sgd", "adamw")),
                         ("float", "momentum", 0.5, 0.9, 0.1, False), ("categorical", "nesterov", (True, False))]
    adamw = ScriptedTrial({"lr": 0.01, "layers": 4, "optimizer": "adamw"})
    assert L.suggest(adamw, PARAMETERS) == {"lr": 0.01, "layers": 4, "optimizer": "adamw"}


def test_a_child_of_a_skipped_parameter_is_skipped_too():
    trial = ScriptedTrial({"lr": 0.01, "layers": 4, "optimizer": "sgd", "momentum": 0.5})
    assert "nesterov" not in L.suggest(trial, PARAMETERS)


def test_int_defaults_step_one_and_linear():
    trial = ScriptedTrial({"n": 3})
    L.suggest(trial, [{"name": "n", "type": "int", "low": 1, "high": 5}])
    assert trial.asked == [("int", "n", 1, 5, 1, False)]


@pytest.mark.parametrize("parent, listed, asked", [
    (1, [1], True), (True, [True], True), (1, [True], False), (True, [1], False), (1.0, [1], False), (0, [False], False), ("1", [1], False),
])
def test_conditions_compare_type_and_value(parent, listed, asked):
    params = [{"name": "p", "type": "categorical", "choices": [parent]},
              {"name": "c", "type": "int", "low": 0, "high": 1, "when": {"parameter": "p", "values": listed}}]
    assert ("c" in L.suggest(ScriptedTrial({"p": parent, "c": 0}), params)) is asked


def test_with_real_optuna_every_trial_samples_within_the_space_and_the_conditions_hold():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = []
    study.optimize(lambda t: seen.append(L.suggest(t, PARAMETERS)) or 0.0, n_trials=200)
    for v in seen:
        assert 1e-5 <= v["lr"] <= 0.1
        assert v["layers"] in (2, 4, 6, 8)
        assert ("momentum" in v) == (v["optimizer"] == "sgd")
        if "momentum" in v:
            assert any(math.isclose(v["momentum"], m) for m in (0.5, 0.6, 0.7, 0.8, 0.9))
        assert ("nesterov" in v) == (v.get("momentum") == 0.9)
    assert {v["optimizer"] for v in seen} == {"sgd", "adamw"}
    assert any("nesterov" in v for v in seen)
