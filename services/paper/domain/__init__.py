"""Pure decisions of the simulated venue, no I/O: spot filters, fills, fees and balances; OCO
lists; futures positions, margin, triggers, liquidation and funding."""
