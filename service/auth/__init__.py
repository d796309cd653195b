"""Who is calling: API keys per access point (Member State, unit, role), hashed at rest."""

from service.auth.caller import Caller
from service.auth.keys import IssuedKey, authenticate, issue_key, list_keys, revoke_key

__all__ = ["Caller", "IssuedKey", "authenticate", "issue_key", "list_keys", "revoke_key"]
