"""Every table, imported in one place (for Alembic and the tests)."""

from cunzhi.attachments.models import Attachment  # noqa: F401
from cunzhi.grid.models import Grid, Household, Incident, Patrol  # noqa: F401  (grid work)
from cunzhi.mediation.models import CaseEvent, MediationCase  # noqa: F401
from cunzhi.orgs.models import OrgUnit  # noqa: F401
from cunzhi.reference.models import CodeEntry, CountySetting  # noqa: F401
from cunzhi.sync.models import Counter, RecordHistory, ServerState, SyncConflict, SyncFeed, SyncMutation  # noqa: F401
from cunzhi.users.models import AuditEntry, AuthSession, User  # noqa: F401
# six-no, nominations, points (issue 8)
from cunzhi.nominations.models import Nomination, NominationObjection  # noqa: F401,E402
from cunzhi.points.models import PointsEntry  # noqa: F401,E402
from cunzhi.six_no.models import SixNoReport  # noqa: F401,E402
from cunzhi.integrations.models import ApiKey, UserNotice, WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: F401
from cunzhi.dashboard.summary import TABLES as DASHBOARD_SUMMARIES  # noqa: F401,E402
