"""Accounting-firm staff review the deposits of the organizations assigned to them."""
