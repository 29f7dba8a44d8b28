//! A family's record: the people, pregnancies and babies, and the checks a
//! pregnancy notification and a birth must pass before anything is stored.
//! DOMAIN.md §3 and PRODUCT.md §1.2: the record opens at the pregnancy
//! notification (妊娠届出), when the handbook (母子健康手帳) is issued.

use crate::kana::Kana;
use crate::validation::FieldErrors;
use crate::{AreaId, BabyId, FamilyId, MunicipalityId, PersonId, PregnancyId};
use jiff::civil::Date;
use jiff::ToSpan;
use serde::{Deserialize, Serialize};

/// Household fee bracket, as used by the postpartum-care fee table [001].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeeBracket {
    /// 課税世帯
    Taxed,
    /// 非課税世帯 (per-capita-only taxed households included) [001]
    NonTaxed,
    /// 生活保護
    PublicAssistance,
}

impl FeeBracket {
    pub const ALL: [FeeBracket; 3] = [FeeBracket::Taxed, FeeBracket::NonTaxed, FeeBracket::PublicAssistance];

    pub fn as_str(self) -> &'static str {
        match self {
            FeeBracket::Taxed => "taxed",
            FeeBracket::NonTaxed => "non_taxed",
            FeeBracket::PublicAssistance => "public_assistance",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The pregnant woman / mother.
    Mother,
    /// Partner or father.
    Partner,
    Child,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Mother => "mother",
            Relation::Partner => "partner",
            Relation::Child => "child",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Relation::Mother, Relation::Partner, Relation::Child].into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Undetermined,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Undetermined => "undetermined",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Sex::Female, Sex::Male, Sex::Undetermined].into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PregnancyStatus {
    Ongoing,
    Delivered,
    Lost,
    MovedOut,
}

impl PregnancyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PregnancyStatus::Ongoing => "ongoing",
            PregnancyStatus::Delivered => "delivered",
            PregnancyStatus::Lost => "lost",
            PregnancyStatus::MovedOut => "moved_out",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Ongoing, Self::Delivered, Self::Lost, Self::MovedOut].into_iter().find(|x| x.as_str() == s)
    }
}

// ---------------------------------------------------------------------------
// Stored records, as read back.

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Family {
    pub id: FamilyId,
    pub municipality_id: MunicipalityId,
    pub area_id: AreaId,
    pub fee_bracket: FeeBracket,
    pub consent_coordinators: bool,
    pub consent_hubs: bool,
    pub escalated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    pub id: PersonId,
    pub family_id: FamilyId,
    pub relation: Relation,
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    pub birth_date: Option<Date>,
}

impl Person {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.family_name, self.given_name).trim().to_owned()
    }

    pub fn full_kana(&self) -> String {
        format!("{} {}", self.family_name_kana, self.given_name_kana).trim().to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pregnancy {
    pub id: PregnancyId,
    pub family_id: FamilyId,
    pub notified_on: Date,
    pub edd: Date,
    pub foetuses: u8,
    pub first_child: bool,
    pub status: PregnancyStatus,
    pub handbook_number: Option<String>,
    /// The day a loss or a move out was recorded as happening.
    pub ended_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Baby {
    pub id: BabyId,
    pub pregnancy_id: PregnancyId,
    pub person_id: PersonId,
    pub birth_date: Date,
    pub sex: Sex,
    pub gestational_weeks: u8,
    pub gestational_days: u8,
    pub birth_weight_g: Option<u16>,
    pub long_hospitalisation: bool,
}

/// Everything a record page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FamilyRecord {
    pub family: Family,
    pub people: Vec<Person>,
    pub pregnancies: Vec<Pregnancy>,
    pub babies: Vec<Baby>,
}

impl FamilyRecord {
    pub fn mother(&self) -> Option<&Person> {
        self.people.iter().find(|p| p.relation == Relation::Mother)
    }

    pub fn person(&self, id: PersonId) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }
}

/// One row of a search result: enough to tell families apart, no health data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FamilySummary {
    pub family_id: FamilyId,
    pub area_id: AreaId,
    pub mother_name: String,
    pub mother_kana: String,
    pub mother_birth_date: Option<Date>,
    /// Expected date of delivery of the latest pregnancy.
    pub latest_edd: Option<Date>,
}

// ---------------------------------------------------------------------------
// Input: what a nurse types, checked as a whole.

fn opt_str(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_date(s: &str) -> Option<Date> {
    s.trim().parse::<Date>().ok()
}

/// A person as typed in the notification form or sent to the API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
    #[serde(default)]
    pub birth_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: Kana,
    pub given_name_kana: Kana,
    pub birth_date: Option<Date>,
}

impl NewPerson {
    /// The key that kana search matches against: family then given name.
    pub fn search_key(&self) -> String {
        format!("{}{}", self.family_name_kana.search_key(), self.given_name_kana.search_key())
    }
}

const MAX_NAME_CHARS: usize = 50;

fn check_name(errors: &mut FieldErrors, field: String, value: &str) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.add(field, "required");
    } else if v.chars().count() > MAX_NAME_CHARS {
        errors.add(field, "too_long");
    } else if v.chars().any(char::is_control) {
        errors.add(field, "invalid");
    }
    v.to_owned()
}

fn check_kana(errors: &mut FieldErrors, field: String, value: &str) -> Option<Kana> {
    match Kana::parse(value) {
        Ok(k) => Some(k),
        Err(e) => {
            errors.add(
                field,
                match e {
                    crate::kana::KanaError::Empty => "required",
                    crate::kana::KanaError::NotKana => "not_kana",
                    crate::kana::KanaError::TooLong => "too_long",
                },
            );
            None
        }
    }
}

impl PersonInput {
    fn check(&self, errors: &mut FieldErrors, prefix: &str, today: Date) -> Option<NewPerson> {
        let family_name = check_name(errors, format!("{prefix}.family_name"), &self.family_name);
        let given_name = check_name(errors, format!("{prefix}.given_name"), &self.given_name);
        let family_name_kana = check_kana(errors, format!("{prefix}.family_name_kana"), &self.family_name_kana);
        let given_name_kana = check_kana(errors, format!("{prefix}.given_name_kana"), &self.given_name_kana);
        let birth_date = match opt_str(&self.birth_date) {
            None => None,
            Some(s) => match parse_date(s) {
                None => {
                    errors.add(format!("{prefix}.birth_date"), "invalid_date");
                    None
                }
                Some(d) if d >= today => {
                    errors.add(format!("{prefix}.birth_date"), "date_in_future");
                    None
                }
                Some(d) if d < today.saturating_sub(100.years()) => {
                    errors.add(format!("{prefix}.birth_date"), "date_too_early");
                    None
                }
                Some(d) => Some(d),
            },
        };
        Some(NewPerson {
            family_name,
            given_name,
            family_name_kana: family_name_kana?,
            given_name_kana: given_name_kana?,
            birth_date,
        })
    }
}

/// A pregnancy notification as typed or sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotificationInput {
    pub area_id: i64,
    pub fee_bracket: String,
    #[serde(default)]
    pub consent_coordinators: bool,
    #[serde(default)]
    pub consent_hubs: bool,
    /// Day the notification was received; today when absent.
    #[serde(default)]
    pub notified_on: Option<String>,
    /// Expected date of delivery (出産予定日).
    pub edd: String,
    pub foetuses: i64,
    #[serde(default)]
    pub first_child: bool,
    #[serde(default)]
    pub handbook_number: Option<String>,
    pub mother: PersonInput,
    #[serde(default)]
    pub partner: Option<PersonInput>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub area_id: AreaId,
    pub fee_bracket: FeeBracket,
    pub consent_coordinators: bool,
    pub consent_hubs: bool,
    pub notified_on: Date,
    pub edd: Date,
    pub foetuses: u8,
    pub first_child: bool,
    pub handbook_number: Option<String>,
    pub mother: NewPerson,
    pub partner: Option<NewPerson>,
}

/// How far before the notification day an EDD may lie: a late notification
/// after the birth happens, but not months later.
pub const EDD_MAX_DAYS_BEFORE_NOTIFICATION: i32 = 60;
/// How far after the notification day an EDD may lie: a full term is 280
/// days from the last period, and no notification comes before week 4.
pub const EDD_MAX_DAYS_AFTER_NOTIFICATION: i32 = 280 - 28;
/// Most foetuses a notification may record.
pub const MAX_FOETUSES: i64 = 5;

impl NotificationInput {
    /// Checks the whole notification against `today` (the day in Japan).
    pub fn check(&self, today: Date) -> Result<Notification, FieldErrors> {
        let mut errors = FieldErrors::default();
        let fee_bracket = FeeBracket::parse(self.fee_bracket.trim());
        if fee_bracket.is_none() {
            errors.add("fee_bracket", "invalid_choice");
        }
        if self.area_id <= 0 {
            errors.add("area_id", "required");
        }
        let notified_on = match opt_str(&self.notified_on) {
            None => Some(today),
            Some(s) => match parse_date(s) {
                None => {
                    errors.add("notified_on", "invalid_date");
                    None
                }
                Some(d) if d > today => {
                    errors.add("notified_on", "date_in_future");
                    None
                }
                Some(d) if d < today.saturating_sub(1.year()) => {
                    errors.add("notified_on", "date_too_early");
                    None
                }
                Some(d) => Some(d),
            },
        };
        let edd = match parse_date(&self.edd) {
            None if self.edd.trim().is_empty() => {
                errors.add("edd", "required");
                None
            }
            None => {
                errors.add("edd", "invalid_date");
                None
            }
            Some(edd) => {
                if let Some(n) = notified_on {
                    if edd < n.saturating_sub(EDD_MAX_DAYS_BEFORE_NOTIFICATION.days()) {
                        errors.add("edd", "edd_too_early");
                    } else if edd > n.saturating_add(EDD_MAX_DAYS_AFTER_NOTIFICATION.days()) {
                        errors.add("edd", "edd_too_late");
                    }
                }
                Some(edd)
            }
        };
        if !(1..=MAX_FOETUSES).contains(&self.foetuses) {
            errors.add("foetuses", "out_of_range");
        }
        let handbook_number = opt_str(&self.handbook_number).map(str::to_owned);
        if let Some(h) = &handbook_number {
            if h.chars().count() > 20 || !h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                errors.add("handbook_number", "invalid");
            }
        }
        let mother = self.mother.check(&mut errors, "mother", today);
        if let (Some(m), Some(e)) = (&mother, edd) {
            if let Some(b) = m.birth_date {
                // A mother of 10 or over at the expected delivery, as any record would show.
                if b > e.saturating_sub(10.years()) {
                    errors.add("mother.birth_date", "mother_too_young");
                }
            }
        }
        let partner = self.partner.as_ref().and_then(|p| p.check(&mut errors, "partner", today));
        match (fee_bracket, notified_on, edd, mother) {
            (Some(fee_bracket), Some(notified_on), Some(edd), Some(mother)) if errors.is_empty() => Ok(Notification {
                area_id: AreaId(self.area_id),
                fee_bracket,
                consent_coordinators: self.consent_coordinators,
                consent_hubs: self.consent_hubs,
                notified_on,
                edd,
                foetuses: self.foetuses as u8,
                first_child: self.first_child,
                handbook_number,
                mother,
                partner,
            }),
            _ => Err(errors),
        }
    }
}

/// True when a new notification is the same pregnancy as one already on
/// record: the same mother (kana key and, when both are known, birth date)
/// with an expected date of delivery within four weeks of the other.
pub fn is_duplicate_notification(
    existing_key: &str,
    existing_birth_date: Option<Date>,
    existing_edd: Date,
    new: &Notification,
) -> bool {
    let same_person = existing_key == new.mother.search_key()
        && match (existing_birth_date, new.mother.birth_date) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
    let apart = crate::dates::days_between(new.edd, existing_edd).abs();
    same_person && apart <= 28
}

/// One baby of a birth as typed or sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BabyInput {
    pub birth_date: String,
    pub sex: String,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub given_name_kana: Option<String>,
    pub gestational_weeks: i64,
    #[serde(default)]
    pub gestational_days: i64,
    #[serde(default)]
    pub birth_weight_g: Option<i64>,
    #[serde(default)]
    pub long_hospitalisation: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BirthInput {
    pub babies: Vec<BabyInput>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBaby {
    pub birth_date: Date,
    pub sex: Sex,
    pub given_name: String,
    pub given_name_kana: Option<Kana>,
    pub gestational_weeks: u8,
    pub gestational_days: u8,
    pub birth_weight_g: Option<u16>,
    pub long_hospitalisation: bool,
}

/// The earliest birth the record accepts, in days before the EDD: week 22
/// (the limit of viability) is 18 weeks before a 40-week EDD.
pub const BIRTH_MAX_DAYS_BEFORE_EDD: i32 = 18 * 7;
/// The latest: week 44, four weeks after the EDD.
pub const BIRTH_MAX_DAYS_AFTER_EDD: i32 = 4 * 7;

/// The days a birth of `pregnancy` may be recorded on, first and last, before
/// today's bound: from week 22 (and not long before the notification) to
/// week 44. The check below and the form's message ("on or after …") share it.
pub fn birth_date_bounds(pregnancy: &Pregnancy) -> (Date, Date) {
    let by_edd = pregnancy.edd.saturating_sub(BIRTH_MAX_DAYS_BEFORE_EDD.days());
    let by_notification = pregnancy.notified_on.saturating_sub(EDD_MAX_DAYS_BEFORE_NOTIFICATION.days());
    (by_edd.max(by_notification), pregnancy.edd.saturating_add(BIRTH_MAX_DAYS_AFTER_EDD.days()))
}

impl BirthInput {
    /// Checks a birth against its pregnancy. Multiples are born within a
    /// couple of days of each other; a pregnancy gives at most as many
    /// babies as foetuses were notified.
    pub fn check(&self, pregnancy: &Pregnancy, today: Date) -> Result<Vec<NewBaby>, FieldErrors> {
        let mut errors = FieldErrors::default();
        if pregnancy.status != PregnancyStatus::Ongoing {
            errors.add("pregnancy", "not_ongoing");
            return Err(errors);
        }
        if self.babies.is_empty() {
            errors.add("babies", "required");
        }
        if self.babies.len() > usize::from(pregnancy.foetuses) {
            errors.add("babies", "more_than_foetuses");
        }
        let (earliest, latest) = birth_date_bounds(pregnancy);
        let mut out = Vec::new();
        for (i, b) in self.babies.iter().enumerate() {
            let f = |name: &str| format!("babies.{i}.{name}");
            let birth_date = match parse_date(&b.birth_date) {
                None => {
                    errors
                        .add(f("birth_date"), if b.birth_date.trim().is_empty() { "required" } else { "invalid_date" });
                    None
                }
                Some(d) if d > today => {
                    errors.add(f("birth_date"), "date_in_future");
                    None
                }
                Some(d) if d < earliest => {
                    errors.add(f("birth_date"), "birth_before_pregnancy");
                    None
                }
                Some(d) if d > latest => {
                    errors.add(f("birth_date"), "birth_too_late");
                    None
                }
                Some(d) => Some(d),
            };
            let sex = Sex::parse(b.sex.trim());
            if sex.is_none() {
                errors.add(f("sex"), "invalid_choice");
            }
            if !(22..=44).contains(&b.gestational_weeks) {
                errors.add(f("gestational_weeks"), "out_of_range");
            }
            if !(0..=6).contains(&b.gestational_days) {
                errors.add(f("gestational_days"), "out_of_range");
            }
            if let Some(w) = b.birth_weight_g {
                if !(200..=6500).contains(&w) {
                    errors.add(f("birth_weight_g"), "out_of_range");
                }
            }
            let given_name = opt_str(&b.given_name).unwrap_or("").to_owned();
            if given_name.chars().count() > MAX_NAME_CHARS {
                errors.add(f("given_name"), "too_long");
            }
            let given_name_kana = match opt_str(&b.given_name_kana) {
                None => None,
                Some(k) => check_kana(&mut errors, f("given_name_kana"), k),
            };
            if let (Some(birth_date), Some(sex)) = (birth_date, sex) {
                out.push(NewBaby {
                    birth_date,
                    sex,
                    given_name,
                    given_name_kana,
                    gestational_weeks: b.gestational_weeks.clamp(0, 255) as u8,
                    gestational_days: b.gestational_days.clamp(0, 6) as u8,
                    birth_weight_g: b.birth_weight_g.map(|w| w.clamp(0, 65535) as u16),
                    long_hospitalisation: b.long_hospitalisation,
                });
            }
        }
        let dates: Vec<Date> = out.iter().map(|b| b.birth_date).collect();
        if let (Some(first), Some(last)) = (dates.iter().min(), dates.iter().max()) {
            if crate::dates::days_between(*first, *last) > 2 {
                errors.add("babies", "births_too_far_apart");
            }
        }
        errors.finish(|| out)
    }
}

#[cfg(test)]
mod tests;

// ---------------------------------------------------------------------------
// Changes of a pregnancy after the notification: a new EDD, a loss, a move.

/// A corrected expected date of delivery, as typed or sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EddChangeInput {
    pub edd: String,
}

impl EddChangeInput {
    /// A new EDD for an ongoing pregnancy, within the same bounds as at the
    /// notification (counted from the notification day).
    pub fn check(&self, pregnancy: &Pregnancy) -> Result<Date, FieldErrors> {
        let mut errors = FieldErrors::default();
        if pregnancy.status != PregnancyStatus::Ongoing {
            errors.add("pregnancy", "not_ongoing");
            return Err(errors);
        }
        let n = pregnancy.notified_on;
        match parse_date(&self.edd) {
            None => errors.add("edd", if self.edd.trim().is_empty() { "required" } else { "invalid_date" }),
            Some(edd) if edd < n.saturating_sub(EDD_MAX_DAYS_BEFORE_NOTIFICATION.days()) => {
                errors.add("edd", "edd_too_early")
            }
            Some(edd) if edd > n.saturating_add(EDD_MAX_DAYS_AFTER_NOTIFICATION.days()) => {
                errors.add("edd", "edd_too_late")
            }
            Some(edd) if edd == pregnancy.edd => errors.add("edd", "unchanged"),
            Some(edd) => return Ok(edd),
        }
        Err(errors)
    }
}

/// How a pregnancy ended other than by a birth, with the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ending", content = "on", rename_all = "snake_case")]
pub enum PregnancyEnd {
    /// Miscarriage or stillbirth.
    Lost(Date),
    /// The family moved out of the municipality (pregnant, or after the birth).
    MovedOut(Date),
}

impl PregnancyEnd {
    pub fn status(self) -> PregnancyStatus {
        match self {
            PregnancyEnd::Lost(_) => PregnancyStatus::Lost,
            PregnancyEnd::MovedOut(_) => PregnancyStatus::MovedOut,
        }
    }

    pub fn on(self) -> Date {
        match self {
            PregnancyEnd::Lost(d) | PregnancyEnd::MovedOut(d) => d,
        }
    }
}

/// A loss or a move, as typed or sent: `ending` is `lost` or `moved_out`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PregnancyEndInput {
    pub ending: String,
    pub on: String,
}

impl PregnancyEndInput {
    /// A loss ends an ongoing pregnancy; a move ends an ongoing or a
    /// delivered one (the infant contacts then close too). The day is not in
    /// the future, not before the notification, and a move after a birth is
    /// not before the birth.
    pub fn check(&self, pregnancy: &Pregnancy, babies: &[Baby], today: Date) -> Result<PregnancyEnd, FieldErrors> {
        let mut errors = FieldErrors::default();
        let on = match parse_date(&self.on) {
            None => {
                errors.add("on", if self.on.trim().is_empty() { "required" } else { "invalid_date" });
                None
            }
            Some(d) if d > today => {
                errors.add("on", "date_in_future");
                None
            }
            Some(d) if d < pregnancy.notified_on => {
                errors.add("on", "before_notification");
                None
            }
            Some(d) => Some(d),
        };
        let births = babies.iter().filter(|b| b.pregnancy_id == pregnancy.id).map(|b| b.birth_date).max();
        let end = match (self.ending.trim(), on) {
            ("lost", _) if pregnancy.status != PregnancyStatus::Ongoing => {
                errors.add("pregnancy", "not_ongoing");
                None
            }
            ("moved_out", _) if !matches!(pregnancy.status, PregnancyStatus::Ongoing | PregnancyStatus::Delivered) => {
                errors.add("pregnancy", "already_ended");
                None
            }
            ("moved_out", Some(d)) if births.is_some_and(|b| d < b) => {
                errors.add("on", "before_birth");
                None
            }
            ("lost", Some(d)) => Some(PregnancyEnd::Lost(d)),
            ("moved_out", Some(d)) => Some(PregnancyEnd::MovedOut(d)),
            ("lost" | "moved_out", None) => None,
            _ => {
                errors.add("ending", "invalid_choice");
                None
            }
        };
        match end {
            Some(e) if errors.is_empty() => Ok(e),
            _ => Err(errors),
        }
    }
}
