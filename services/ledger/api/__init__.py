"""The read API: routes (`routes`, `alerts`), what they return (`schemas`, `feed_schemas`,
`views`, `totals`, `export`), their queries under row-level security (`reads`, `feed`,
`cursor`), the live feed's wake-ups (`signals`) and cancels asked through it (`cancels`)."""
