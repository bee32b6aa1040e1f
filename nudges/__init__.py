"""What the bot says and when: the weekly messages (planner, weekly), every text (texts/), and how
messages leave (delivery/: the outbox and its ticks). Receiving is bot/inbox; deciding is handlers."""
