"""Every table, imported in one place (for Alembic and the tests)."""

from cunzhi.attachments.models import Attachment  # noqa: F401
from cunzhi.mediation.models import CaseEvent, MediationCase  # noqa: F401
from cunzhi.orgs.models import OrgUnit  # noqa: F401
from cunzhi.reference.models import CodeEntry, CountySetting  # noqa: F401
from cunzhi.sync.models import Counter, RecordHistory, ServerState, SyncConflict, SyncFeed, SyncMutation  # noqa: F401
from cunzhi.users.models import AuditEntry, AuthSession, User  # noqa: F401
from cunzhi.integrations.models import ApiKey, UserNotice, WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: F401
