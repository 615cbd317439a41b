"""Every feature's models, imported in one place so Alembic and create_all see the whole schema."""
from forum_app.audit.models import AuditEntry  # noqa: F401
from forum_app.auth.models import EventRole, StaffInvitation, User  # noqa: F401
from forum_app.badges.models import BadgeKey  # noqa: F401
from forum_app.checkin.models import CheckIn  # noqa: F401
from forum_app.devices.models import DeviceToken  # noqa: F401
from forum_app.notes.models import NoteItem, NoteRevision, NoteStream, RapporteurAssignment  # noqa: F401
from forum_app.programme.models import (  # noqa: F401
    Event,
    Person,
    Room,
    Session,
    SessionPerson,
    Track,
)
from forum_app.registration.models import Delegation, Registration, WorkshopSeat  # noqa: F401
from forum_app.report.models import QuoteApproval, Report, ReportItem, ReportSection, ReportSnapshot  # noqa: F401
