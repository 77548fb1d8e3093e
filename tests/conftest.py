import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
# The repository root, last: tests import benchmarks.fhir_writer (the test-only FHIR writer) whatever the
# working directory and however pytest was started, while `matcher` stays the installed package.
sys.path.append(str(Path(__file__).parent.parent))


from collections.abc import Callable, Iterator  # noqa: E402

import pytest  # noqa: E402

from matcher.facts import SITE_FACTS, default_facts  # noqa: E402


@pytest.fixture
def site_facts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Lay a site facts file (its YAML text) over the bundled facts, returning its path; call again to replace
    it.  The bundled facts come back after the test."""

    def lay(text: str) -> Path:
        site = tmp_path / "site.yaml"
        site.write_text(text)
        monkeypatch.setenv(SITE_FACTS, str(site))
        default_facts.cache_clear()
        return site

    yield lay
    monkeypatch.delenv(SITE_FACTS, raising=False)
    default_facts.cache_clear()
