"""Long-connection channels (WeCom 智能机器人, DingTalk Stream): what they share — reconnecting
with backoff, holding the one connection per bot across instances, and their user-facing texts."""
