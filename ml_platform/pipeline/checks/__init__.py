"""Asset checks: ``gate`` (the blocking deploy gate on the evaluation report) and ``data`` (the
cleaned tables' contract, quarantine share and key checks)."""
