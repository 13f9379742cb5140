"""Pure rules, no I/O: position arithmetic (`positions`), the rows (`rows`), the rows a batch
inserts first (`inserts`: fills, funding) and how events fold into the rest (`projection`,
with `orders`, `alerts` and `strategies`)."""
