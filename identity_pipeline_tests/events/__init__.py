"""Tests of events landing (issue 15 items 1 and 2)."""
