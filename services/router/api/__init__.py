"""The trade-settings API: changes (`settings`), reads (`reads`), what every route depends on
(`deps`) and the error answers (`errors`)."""
