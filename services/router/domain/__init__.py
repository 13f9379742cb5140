"""The router's decisions, pure, no I/O: `decide` and the checks it runs, the settings in force
(`layers`), the legs an action becomes, exits, leverage, symbols, trade settings, kill switches
and the decision as kept."""
