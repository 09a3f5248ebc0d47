"""Secure SQL over the companies' tables: engine (parse, plan, operators) and governance
(column policies, released-aggregate ledger, differencing check, differential privacy)."""
