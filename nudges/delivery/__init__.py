"""How messages leave: the outbox (each message sent once, de-duplicated, rate-aware) and the ticks that
drain it and plan the weekly messages (APScheduler lives here only)."""
