from tests.six_no.support import town  # noqa: F401
