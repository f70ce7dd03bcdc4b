"""Operator commands and drivers: the ``ml-platform`` CLI, status, the headless demo and the
in-process lifecycle driver used by the demo and the tests."""
