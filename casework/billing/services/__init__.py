"""Every write in billing, split by domain line: the catalogue and set-up, charges, claims."""
