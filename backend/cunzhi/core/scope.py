"""The one permission scope every query and every output goes through.

A user belongs to one org unit and sees the records of that unit and the units below it. Official
division codes are hierarchical prefixes (340321 ⊃ 340321108 ⊃ 340321108200), so "in scope" is a
prefix test in Python and an index range scan in SQL (:func:`cunzhi.core.db.scope_clause`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cunzhi.core.db import scope_bounds, scope_clause


@dataclass
class Scope:
    user_id: str
    username: str
    role: str
    org_code: str
    client_id: str = ""
    session_id: str = ""
    # record ids returned unmasked with personal data during this request (written to the audit trail)
    unmasked_ids: set[str] = field(default_factory=set)
    # an API key's limits (integrations.md): the record types it may read (None: every type) and whether
    # its creator let it see personal data unmasked
    entities: frozenset[str] | None = None
    key_unmasked: bool = False

    @property
    def is_api_key(self) -> bool:
        """An integration API key (``czk_…``): no account and no session behind it."""
        return self.role == "integration" and not self.session_id

    @property
    def sender(self) -> str:
        """Who "the sender" is for merging: this user on this device."""
        return f"{self.user_id}:{self.client_id}"

    def contains(self, org_code: str | None) -> bool:
        return bool(org_code) and org_code.startswith(self.org_code)

    def clause(self, column):
        return scope_clause(column, self.org_code)

    def bounds(self) -> tuple[str, str]:
        """The org codes in scope, [lo, hi), for statements built once with bound parameters."""
        return scope_bounds(self.org_code)

    def may_read(self, entity: str) -> bool:
        """A key limited to some record types sees the others as absent."""
        return self.entities is None or entity in self.entities

    def sees_personal_data(self, org_code: str) -> bool:
        """ID and phone numbers in full: the record's own village's mediators and admins, township admins."""
        if not self.contains(org_code):
            return False
        if self.role == "integration":
            return self.key_unmasked
        if self.role == "township_admin":
            return True
        return self.role in ("mediator", "village_admin") and org_code == self.org_code

    @property
    def signature(self) -> str:
        """Changes when what this user may see changes (a cursor from another scope must reset)."""
        seen = f"{self.role}|{self.org_code}"
        if self.entities is not None:
            seen += "|" + ",".join(sorted(self.entities))
        return hashlib.sha256(seen.encode()).hexdigest()[:16]
