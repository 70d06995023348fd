"""WeCom 智能机器人 over its WebSocket long connection (PROTOCOL.md, "the long connection")."""
