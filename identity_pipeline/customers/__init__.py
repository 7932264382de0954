"""Customer scoring (issue 15 item 6): seed 003's customer metrics, predicted 90-day value and
segments, computed in portable SQL over `persons` and `person_journal`."""
