"""The security suite (issue 11): see conftest.py and the test modules."""
