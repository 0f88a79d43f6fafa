"""A small agent package for the replay tests: a shop assistant with three tools, a scripted
model that picks tools from the conversation, and two versions (v2 notifies the customer)."""
