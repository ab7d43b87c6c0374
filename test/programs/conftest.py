"""Unit tests of the programs the pods run (src/programs/), with Debian's pytest and the system Python:
`/usr/bin/python3 -m pytest -q test/programs` (`npm run test:programs`, part of `npm test`). They test the
programs' logic without a database, a cluster or a network; test/engine/ and
test/cdk8s/bootstrap-engine.test.ts run them whole against real engines."""
import importlib.util
import os
import sys

import pytest

PROGRAMS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "src", "programs"))

# No byte code beside the programs (the build copies that folder) or the tests.
sys.dont_write_bytecode = True
# The sweep programs import each other by module name, as they do from their ConfigMap folder.
sys.path.insert(0, PROGRAMS)


@pytest.fixture
def load_program(monkeypatch):
    """Loads a fresh copy of a program module under extra environment variables (for the
    programs that read their configuration when imported)."""

    def load(name, **env):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        spec = importlib.util.spec_from_file_location(name, os.path.join(PROGRAMS, name + ".py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


class Recorder:
    """A stand-in for a class or function: records each call's arguments."""

    def __init__(self, result=None):
        self.calls, self.result = [], result

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        return self.result


@pytest.fixture
def recorder():
    return Recorder
