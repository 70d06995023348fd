"""What users see from the long-connection channels themselves (everything else comes from the
handlers' texts)."""

WELCOME = "您好，我是考核助手。发送“帮助”查看能做的事，例如“我的得分”“进度”“政务信息：标题…”。"
WORKING = "正在处理，请稍候…"
LATER = "已收到，处理结果稍后单独发给您。"
