import sys
from pathlib import Path

# support.py is imported by the tests and run as a script by the crash tests.
sys.path.insert(0, str(Path(__file__).parent))
