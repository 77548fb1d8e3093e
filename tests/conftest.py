import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
# The repository root, last: tests import benchmarks.fhir_writer (the test-only FHIR writer) whatever the
# working directory and however pytest was started, while `matcher` stays the installed package.
sys.path.append(str(Path(__file__).parent.parent))
