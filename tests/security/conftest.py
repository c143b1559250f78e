"""The security suite borrows the six-no suite's ``town`` (fast logins of the demo accounts, pushes as phones)."""

from tests.six_no.support import town  # noqa: F401
