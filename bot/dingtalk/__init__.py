"""DingTalk (钉钉 / 浙政钉) robot over Stream mode: an outgoing WebSocket, no public IP needed."""
