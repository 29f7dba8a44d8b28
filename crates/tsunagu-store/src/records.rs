//! Municipalities, areas, venues and the families' records.

use crate::Result;
use async_trait::async_trait;
use tsunagu_domain::audit::AuditContext;
use tsunagu_domain::municipality::MunicipalityCode;
use tsunagu_domain::places::{Area, Municipality, Venue, VenueKind};
use tsunagu_domain::policy::{FamilyAccess, FamilyFilter};
use tsunagu_domain::records::{FamilyRecord, FamilySummary, NewBaby, Notification, Pregnancy};
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{AreaId, BabyId, FamilyId, MunicipalityId, PregnancyId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVenue {
    pub municipality_id: MunicipalityId,
    pub area_id: Option<AreaId>,
    pub kind: VenueKind,
    pub name_ja: String,
    pub name_en: String,
}

/// One family of a bulk import: a notification and, when the babies have
/// come, the birth. Used to move records in from another system, and to
/// load benchmark data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFamily {
    pub notification: Notification,
    pub babies: Vec<NewBaby>,
    /// The previous system's history: every contact staff owed that fell
    /// due on or before this day was done (recorded in the first form its
    /// kind allows, by the importing account). `None`: nothing recorded.
    pub settled_through: Option<jiff::civil::Date>,
}

/// Municipalities, their areas and venues, and the families' records: notifications, imports, births.
#[async_trait]
pub trait RecordStore: Send + Sync {
    async fn create_municipality(&self, code: MunicipalityCode, name_ja: &str, name_en: &str) -> Result<Municipality>;
    async fn municipality(&self, id: MunicipalityId) -> Result<Option<Municipality>>;
    async fn municipality_by_code(&self, code: MunicipalityCode) -> Result<Option<Municipality>>;
    async fn municipalities(&self) -> Result<Vec<Municipality>>;
    async fn create_area(&self, m: MunicipalityId, name_ja: &str, name_en: &str) -> Result<Area>;
    async fn areas(&self, m: MunicipalityId) -> Result<Vec<Area>>;
    async fn create_venue(&self, v: &NewVenue) -> Result<Venue>;
    async fn venues(&self, m: MunicipalityId) -> Result<Vec<Venue>>;
    /// Opens a record from a pregnancy notification. `InvalidReference("area_id")`
    /// for an area of another municipality; `Conflict("duplicate_notification")`
    /// when the same pregnancy is already on record; `Conflict("handbook_number_taken")`.
    async fn register_notification(&self, ctx: &AuditContext, n: &Notification) -> Result<FamilyId>;
    /// Imports many families in one transaction, each exactly as
    /// `register_notification` (then `record_birth` when it has babies) would,
    /// with its own audit line. A family that duplicates one on record (or an
    /// earlier one of the batch) is not imported: its slot in the answer holds
    /// the conflict code, for the importer to review. Any other error undoes
    /// the whole batch. The bulk path (#16): one lookup finds the batch's
    /// duplicates, every row is computed in memory (`crate::bulk`), and each
    /// table is written by a few multi-row statements.
    async fn import_families(
        &self,
        ctx: &AuditContext,
        families: &[ImportFamily],
    ) -> Result<Vec<Result<FamilyId, &'static str>>>;
    /// The one-by-one path of [`RecordStore::import_families`]: each family
    /// through the statements `register_notification` and `record_birth`
    /// use, one after the other, in one transaction. Same answers, same
    /// rows (ids aside), same audit lines; many times slower. Kept as the
    /// reference the bulk path is compared against (#16).
    async fn import_families_one_by_one(
        &self,
        ctx: &AuditContext,
        families: &[ImportFamily],
    ) -> Result<Vec<Result<FamilyId, &'static str>>>;
    /// Starts a large load (#16: `demo-load`, the benchmarks): drops the
    /// secondary indexes of the tables a load fills
    /// (`bulk::SET_ASIDE_TABLES`; every unique index and key stays, and so
    /// do the indexes the import's own duplicate checks read,
    /// `bulk::KEPT_DURING_LOAD`) and, on PostgreSQL, their foreign keys (checked again over every row when they are added
    /// back), saving their definitions in `bulk_dropped_indexes` in the same
    /// transaction; SQLite's writer gets a bigger page cache. Queries stay right meanwhile,
    /// only slower. Pair it with [`RecordStore::bulk_load_end`], also after a
    /// failed load; a load that never reached it (a crash) has them rebuilt by
    /// the next `migrate`, which every start runs.
    async fn bulk_load_begin(&self) -> Result<()>;
    /// Rebuilds every index (and foreign key) `bulk_load_begin` dropped, in
    /// one transaction (each built once over the loaded rows, not entry by
    /// entry during the load); returns how many. Nothing to do is not an
    /// error; a row without its parent fails it, and nothing is rebuilt.
    async fn bulk_load_end(&self) -> Result<usize>;
    /// What the policy needs to decide on a family; `None` if it is not in `m`.
    async fn family_access(&self, m: MunicipalityId, id: FamilyId) -> Result<Option<FamilyAccess>>;
    /// The mother's choice: whether her partner's account sees her health
    /// items (`FamilyAccess::partner_sees_health`). Audited `family.sharing`.
    async fn set_partner_sees_health(&self, ctx: &AuditContext, id: FamilyId, shared: bool) -> Result<()>;
    /// A nurse's switch: the partner's view of the family off (or on again)
    /// (`FamilyAccess::partner_view_off`). Audited `family.sharing`.
    async fn set_partner_view_off(&self, ctx: &AuditContext, id: FamilyId, off: bool) -> Result<()>;
    /// The whole record; the audit line is written before it is returned.
    async fn open_family(&self, ctx: &AuditContext, id: FamilyId) -> Result<Option<FamilyRecord>>;
    /// Families whose mother's kana (family+given, or given alone) starts
    /// with `kana_key` (already folded by `kana::search_key`), within `filter`:
    /// family-name matches first in kana order, then given-name-only matches
    /// in kana order of the given name; at most `limit`. Its cost must not grow
    /// with the number of families (an index range scan stopped at `limit`).
    async fn search_families(
        &self,
        ctx: &AuditContext,
        filter: &FamilyFilter,
        kana_key: &str,
        limit: u32,
    ) -> Result<Vec<FamilySummary>>;
    /// Records the babies of a birth and marks the pregnancy delivered.
    /// `Conflict("pregnancy_not_ongoing")` if it was not ongoing any more.
    async fn record_birth(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        pregnancy: PregnancyId,
        babies: &[NewBaby],
    ) -> Result<Vec<BabyId>> {
        self.record_birth_checked(ctx, family, pregnancy, &|_| Ok(babies.to_vec())).await
    }
    /// [`record_birth`](Self::record_birth) of the babies `check` makes of
    /// the pregnancy as it stands inside the change's own transaction (the
    /// domain's `BirthInput::check`): one audit line, `family.birth`, and no
    /// read of the record before it. What `check` refuses is
    /// `StoreError::Invalid`; `NotFound` when the pregnancy is not the
    /// family's or not in the context's municipality.
    async fn record_birth_checked(
        &self,
        ctx: &AuditContext,
        family: FamilyId,
        pregnancy: PregnancyId,
        check: &BirthCheck<'_>,
    ) -> Result<Vec<BabyId>>;
}

/// What a birth's babies are, given the pregnancy they are born of (read
/// inside the birth's transaction), or the fields that do not pass.
pub type BirthCheck<'a> = dyn Fn(&Pregnancy) -> std::result::Result<Vec<NewBaby>, FieldErrors> + Sync + 'a;
