"""Pure rules, no I/O: position arithmetic (`positions`), the rows (`rows`), and how events
fold into them (`projection`, with `orders`, `alerts` and `strategies`)."""
