"""The metric grammar of sweep_lib.parse_metrics: a trial reports a value by printing a `name=value` token
(separated by whitespace, commas or semicolons) on any output line; a `step=N` token on the same line gives
the step. Only declared metric names count; everything else on the line is ignored."""
import math

import pytest

import sweep_lib as L

NAMES = {"loss", "acc", "val/loss", "train.loss-ema"}


@pytest.mark.parametrize("line, found, step", [
    ("loss=0.5", {"loss": 0.5}, None),
    ("step=3 loss=0.25 acc=0.9", {"loss": 0.25, "acc": 0.9}, 3),
    ("loss=1,acc=2;step=4", {"loss": 1.0, "acc": 2.0}, 4),
    ("\tloss=1 ;  acc=2 ,,step=0\r", {"loss": 1.0, "acc": 2.0}, 0),
    ("[epoch 1/10] loss=0.3 (best)", {"loss": 0.3}, None),
    ("val/loss=0.1 train.loss-ema=2", {"val/loss": 0.1, "train.loss-ema": 2.0}, None),
    ("loss=1 loss=2", {"loss": 2.0}, None),  # the last one on a line wins
    ("", {}, None),
    ("no metrics here", {}, None),
])
def test_tokens_on_a_line(line, found, step):
    assert L.parse_metrics(line, NAMES) == (found, step)


@pytest.mark.parametrize("text, value", [
    ("1e-3", 0.001), ("-2", -2.0), ("+.5", 0.5), ("3.", 3.0), (".25", 0.25), ("1E+2", 100.0), ("007", 7.0),
])
def test_number_forms(text, value):
    assert L.parse_metrics("loss=" + text, NAMES) == ({"loss": value}, None)


@pytest.mark.parametrize("line", [
    "loss = 0.3",      # spaces around "=": not a token
    "loss: 0.3",
    "loss=0.3s",       # a unit glued to the number
    "loss=0.3.1",
    "loss=1e",
    "loss=nan", "loss=inf", "loss=-inf",
    "loss=1e999",      # parses to infinity: dropped
    "loss=0x10",
    "lr=0.1",          # not a declared metric
    "1loss=3",         # a name starts with a letter or underscore
    "Loss=0.3",        # names are case-sensitive
    "loss==0.3",
])
def test_what_is_not_a_value(line):
    found, _ = L.parse_metrics(line, NAMES)
    assert found == {}


@pytest.mark.parametrize("line, step", [
    ("step=-1 loss=1", None), ("step=1.5 loss=1", None), ("step=1e3 loss=1", None), ("step=12 loss=1", 12), ("step=007 loss=1", 7),
])
def test_the_step_is_a_non_negative_integer_or_absent(line, step):
    assert L.parse_metrics(line, NAMES) == ({"loss": 1.0}, step)


def test_a_step_alone_gives_a_step_and_no_value():
    assert L.parse_metrics("step=5", NAMES) == ({}, 5)


def test_the_names_may_be_any_container_of_declared_names():
    # The trial passes its {metric: [(step, value)]} dict.
    assert L.parse_metrics("acc=1 loss=2", {"loss": []}) == ({"loss": 2.0}, None)
    assert L.parse_metrics("acc=1 loss=2", ["acc"]) == ({"acc": 1.0}, None)


def test_values_are_finite_floats():
    found, _ = L.parse_metrics("loss=3 acc=-0", NAMES)
    assert all(isinstance(v, float) and math.isfinite(v) for v in found.values())
    assert found == {"loss": 3.0, "acc": 0.0}


@pytest.mark.parametrize("value, text", [
    (True, "true"), (False, "false"), (3, "3"), (0.1, "0.1"), (1e-05, "1e-05"), (2.0, "2.0"), ("adamw", "adamw"), (None, "None"),
])
def test_fmt_renders_parameters_as_the_trial_sees_them(value, text):
    assert L.fmt(value) == text


def test_metric_records_for_mlflow(monkeypatch):
    monkeypatch.setattr(L.time, "time", lambda: 1700000000.5)
    assert L.metric("loss", 1, 3) == {"key": "loss", "value": 1.0, "timestamp": 1700000000500, "step": 3}
