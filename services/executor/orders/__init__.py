"""Orders: place each `PlaceOrder` exactly once, follow it on the exchange until it ends, and
report what became of it, moving its record through the shared order state machine
(`libs.common.fsm`). The trading role's room."""
