"""Every read in billing, split by domain line, each scoped to what the user may see."""
