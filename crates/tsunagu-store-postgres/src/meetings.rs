//! Handbook meetings and 8th-month group sessions on PostgreSQL (in progress).

use super::{PgStore, Result};
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::policy::FamilyFilter;
use tsunagu_domain::timeline::DueMonth;
use tsunagu_domain::{AreaId, GroupSessionId, MunicipalityId, PregnancyId};
use tsunagu_store::{
    GroupCandidate, GroupSession, HandbookEntry, HandbookMeeting, NewGroupSession, NewHandbookMeeting, StoreError,
};

pub(crate) enum Which {
    Month(DueMonth),
    One(GroupSessionId),
}

fn todo() -> StoreError {
    StoreError::Other("meetings not yet on PostgreSQL".into())
}

pub(crate) async fn handbook_list(
    _s: &PgStore,
    _ctx: &AuditContext,
    _f: &FamilyFilter,
    _a: AreaId,
    _m: DueMonth,
) -> Result<Vec<HandbookEntry>> {
    Err(todo())
}
pub(crate) async fn handbook_meetings(
    _s: &PgStore,
    _m: MunicipalityId,
    _a: AreaId,
    _f: DueMonth,
    _t: DueMonth,
) -> Result<Vec<HandbookMeeting>> {
    Err(todo())
}
pub(crate) async fn record_handbook_meeting(
    _s: &PgStore,
    _ctx: &AuditContext,
    _n: &NewHandbookMeeting,
) -> Result<HandbookMeeting> {
    Err(todo())
}
pub(crate) async fn group_candidates(
    _s: &PgStore,
    _ctx: &AuditContext,
    _f: &FamilyFilter,
    _m: DueMonth,
) -> Result<Vec<GroupCandidate>> {
    Err(todo())
}
pub(crate) async fn create_group_session(
    _s: &PgStore,
    _ctx: &AuditContext,
    _n: &NewGroupSession,
) -> Result<GroupSessionId> {
    Err(todo())
}
pub(crate) async fn group_sessions(
    _s: &PgStore,
    _ctx: &AuditContext,
    _f: &FamilyFilter,
    _w: Which,
) -> Result<Vec<GroupSession>> {
    Err(todo())
}
pub(crate) async fn record_attendance(
    _s: &PgStore,
    _ctx: &AuditContext,
    _i: GroupSessionId,
    _a: &[PregnancyId],
) -> Result<()> {
    Err(todo())
}
