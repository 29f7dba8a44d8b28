//! What the classes API answers, for the OpenAPI document, and its operations.

#![allow(dead_code)] // Described, never built: the handlers answer the same shape.

use tsunagu_domain::classes::{ProgrammeKind, SessionStatus, Stage};
use tsunagu_domain::{AreaId, BookingId, ClassSessionId, ContactId, FamilyId, ProgrammeId, VenueId};
use utoipa::ToSchema;

/// A session (no personal data).
#[derive(ToSchema)]
pub struct ClassSessionView {
    id: ClassSessionId,
    programme_id: ProgrammeId,
    kind: ProgrammeKind,
    programme_name_ja: String,
    programme_name_en: String,
    venue_id: VenueId,
    venue_name_ja: String,
    venue_name_en: String,
    area_id: Option<AreaId>,
    /// `YYYY-MM-DD`.
    #[schema(value_type = String)]
    day: jiff::civil::Date,
    /// `HH:MM`, Japan's local time.
    starts: String,
    minutes: u16,
    /// Places, counted in the programme's unit (`person`, `pregnant_with_partner`, `parent_with_babies`).
    capacity: u32,
    unit: String,
    taken: u32,
    waiting: u32,
    status: SessionStatus,
    /// Who runs it (#12): in staff's answers only (a programme's sessions,
    /// an edit, a roster), never in a family's. Empty: none assigned — the
    /// venue's programme staff see its roster.
    #[schema(nullable = false)]
    staff: Option<Vec<SessionStaffView>>,
}

/// An account assigned to run a session, by display name.
#[derive(ToSchema)]
pub struct SessionStaffView {
    account_id: tsunagu_domain::AccountId,
    display_name: String,
}

/// The accounts a session's staff may be chosen from.
#[derive(ToSchema)]
pub struct SessionStaffList {
    staff: Vec<SessionStaffView>,
}

/// A session as a family sees it: whether it may book it, and why not.
#[derive(ToSchema)]
pub struct ClassOfferView {
    session: ClassSessionView,
    bookable: bool,
    /// The stage a booking would be in.
    stage: Option<Stage>,
    /// Why the family may not book it (`Ineligible` code).
    reason: Option<String>,
    /// The reason in the caller's language.
    reason_text: Option<String>,
    /// Staff may override the reason (with an audited reason of their own).
    overridable: bool,
    /// The family's live booking of it.
    booking: Option<ClassBookingView>,
}

/// The sessions offered to a family.
#[derive(ToSchema)]
pub struct ClassOfferList {
    family_id: FamilyId,
    offers: Vec<ClassOfferView>,
}

/// Sessions.
#[derive(ToSchema)]
pub struct ClassSessionList {
    sessions: Vec<ClassSessionView>,
}

/// A booking (or a place on the waiting list).
#[derive(ToSchema)]
pub struct ClassBookingView {
    id: BookingId,
    session_id: ClassSessionId,
    family_id: FamilyId,
    kind: ProgrammeKind,
    stage: Stage,
    /// `confirmed`, `waiting` or `cancelled`.
    status: String,
    /// The owed contact on the timeline the booking settles when attended.
    contact_id: Option<ContactId>,
    with_partner: bool,
    share_name: bool,
    /// The rule staff overrode to book it.
    override_rule: Option<String>,
    /// A notice not yet dismissed: a promotion from the waiting list, a new
    /// day, time or venue, the session's cancellation.
    notice_pending: bool,
    attended: Option<bool>,
    weight_g: Option<u32>,
    height_mm: Option<u32>,
}

/// A booking made, or found again for the same idempotency key.
#[derive(ToSchema)]
pub struct ClassBookingMade {
    booking: ClassBookingView,
    /// The same key booked before: nothing new was done.
    replayed: bool,
}

/// A booking with its session.
#[derive(ToSchema)]
pub struct ClassFamilyBookingView {
    booking: ClassBookingView,
    session: ClassSessionView,
}

/// A family's bookings.
#[derive(ToSchema)]
pub struct ClassBookingList {
    family_id: FamilyId,
    bookings: Vec<ClassFamilyBookingView>,
}

/// One line of a roster.
#[derive(ToSchema)]
pub struct ClassRosterLine {
    booking: ClassBookingView,
    /// The mother's name, when the family lets the session's staff see it.
    name: Option<String>,
    /// Place on the waiting list.
    waiting_position: Option<u32>,
}

/// A session's roster.
#[derive(ToSchema)]
pub struct ClassRoster {
    session: ClassSessionView,
    roster: Vec<ClassRosterLine>,
}

/// Attendance as recorded.
#[derive(ToSchema)]
pub struct ClassAttendanceBody {
    marks: Vec<super::MarkInput>,
}

/// One venue's participation in one programme.
#[derive(ToSchema)]
pub struct ClassFigureRow {
    venue_id: VenueId,
    venue_name_ja: String,
    venue_name_en: String,
    kind: ProgrammeKind,
    figures: tsunagu_domain::classes::Participation,
}

/// One programme's totals ([000]: classes and pairs).
#[derive(ToSchema)]
pub struct ClassFigureTotal {
    kind: ProgrammeKind,
    figures: tsunagu_domain::classes::Participation,
}

/// Participation in a fiscal year.
#[derive(ToSchema)]
pub struct ClassFigures {
    fiscal_year: i32,
    /// 令和N年度.
    label_ja: String,
    rows: Vec<ClassFigureRow>,
    totals: Vec<ClassFigureTotal>,
}

/// A local-information entry [000] 地域おでかけ情報 (public information about a place).
#[derive(ToSchema)]
pub struct LocalPlaceView {
    id: tsunagu_domain::LocalPlaceId,
    area_id: AreaId,
    kind: tsunagu_domain::classes::local::PlaceKind,
    name_ja: String,
    name_en: String,
    address: String,
    /// How to get there.
    access: String,
    /// Opening days and hours.
    hours: String,
    offers_ja: String,
    offers_en: String,
    /// The stages it suits.
    stages: Vec<tsunagu_domain::classes::local::LifeStage>,
    /// The venue it is, when class sessions are held there.
    venue_id: Option<VenueId>,
    /// Retired: families no longer see it.
    retired: bool,
}

/// The directory as browsed, with the filters applied (none: every value).
#[derive(ToSchema)]
pub struct LocalDirectory {
    area_id: Option<AreaId>,
    stage: Option<tsunagu_domain::classes::local::LifeStage>,
    kind: Option<tsunagu_domain::classes::local::PlaceKind>,
    entries: Vec<LocalPlaceView>,
}

/// An entry and the upcoming sessions held at its venue.
#[derive(ToSchema)]
pub struct LocalPlaceWithSessions {
    entry: LocalPlaceView,
    sessions: Vec<ClassSessionView>,
}

/// A session cancelled by staff, with the bookings it cancelled.
#[derive(ToSchema)]
pub struct ClassSessionCancelled {
    session_id: ClassSessionId,
    cancelled_bookings: Vec<BookingId>,
}

/// One session a pattern proposes.
#[derive(ToSchema)]
pub struct SchedulePreviewLine {
    venue_id: VenueId,
    venue_name_ja: String,
    venue_name_en: String,
    /// `YYYY-MM-DD`.
    #[schema(value_type = String)]
    day: jiff::civil::Date,
    /// `HH:MM`, Japan's local time.
    starts: String,
    /// The pattern's day when it was a public holiday (the class moved a week later).
    #[schema(value_type = Option<String>)]
    moved_from: Option<jiff::civil::Date>,
    /// The programme already has a session at this venue that day: it is left alone.
    already_there: bool,
}

/// What a pattern proposes for a fiscal year (nothing stored).
#[derive(ToSchema)]
pub struct SchedulePreview {
    programme_id: ProgrammeId,
    fiscal_year: i32,
    minutes: u16,
    capacity: u32,
    /// How many sessions a generation would create.
    new_sessions: u32,
    sessions: Vec<SchedulePreviewLine>,
}

/// What a generation created.
#[derive(ToSchema)]
pub struct ScheduleGenerated {
    programme_id: ProgrammeId,
    created: Vec<ClassSessionId>,
    /// Sessions the programme already had at those venues on those days (not created again).
    already_there: u32,
}

/// A programme and its settings.
#[derive(ToSchema)]
pub struct ProgrammeView {
    id: ProgrammeId,
    config: tsunagu_domain::classes::ProgrammeConfig,
}

/// The municipality's programmes.
#[derive(ToSchema)]
pub struct ProgrammeList {
    programmes: Vec<ProgrammeView>,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        super::api::offers,
        super::api::sessions,
        super::api::create_booking,
        super::api::list_bookings,
        super::api::cancel_booking,
        super::api::roster,
        super::api::attendance,
        super::api::figures,
        super::local::api::browse,
        super::local::api::one,
        super::local::api::create,
        super::local::api::update,
        super::local::api::retire,
        super::manage::programme_sessions_api,
        super::manage::edit_session_api,
        super::manage::cancel_session_api,
        super::manage::staff_choices_api,
        super::schedule::preview_api,
        super::schedule::generate_api,
        super::programmes::list_api,
        super::programmes::configure_api
    ),
    tags((name = "classes", description = "Classes and programmes: sessions, eligibility, bookings, rosters, attendance [000][002][004]"))
)]
pub struct ApiDoc;
