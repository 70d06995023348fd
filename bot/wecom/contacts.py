"""Reading department members through WeCom's contacts API (`user/simplelist`), to fill in the
names of registered people (`kaohe units sync`).

Optional: an app often lacks the contacts permission; then WeCom answers with a permission error
and the sync says so and changes nothing, instead of failing.
"""

from __future__ import annotations

from bot.wecom.client import WeComAPIError, WeComClient

# no privilege for the contact / the API / the department, or an untrusted IP
NO_PERMISSION = frozenset({60011, 48002, 48009, 60020, 60123})


class ContactsUnavailable(Exception):
    """The app may not read the contacts (the reason is WeCom's errcode and message)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


async def department_members(client: WeComClient, department_id: int) -> dict[str, str]:
    """user id → name of everyone in the department and its sub-departments."""
    try:
        result = await client.call(
            "GET",
            "/cgi-bin/user/simplelist",
            params={"department_id": department_id, "fetch_child": 1},
        )
    except WeComAPIError as exc:
        if exc.errcode in NO_PERMISSION:
            raise ContactsUnavailable(exc.errcode, exc.errmsg) from None
        raise
    return {
        str(user["userid"]): str(user.get("name") or "")
        for user in result.get("userlist", [])
        if user.get("userid")
    }
