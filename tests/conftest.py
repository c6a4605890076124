
import pytest

from bench import registry


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own editbench cache, so no test sees another's materialised suites."""
    monkeypatch.setenv("EDITBENCH_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("EDITBENCH_PROGRESS", "0")
    yield


@pytest.fixture(scope="session", autouse=True)
def _fake_components():
    from tests.fakes.components import BrightenSystem, MeanDiffJudge

    registry.register("systems", "fake-brighten", BrightenSystem)
    registry.register("judges", "fake-diff", MeanDiffJudge)
    yield
