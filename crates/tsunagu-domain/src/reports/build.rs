//! The seeds' tables from a year's aggregates. The store counts (it never
//! hands out a person); these functions lay the counts out as the seeds
//! print them, with the sums suppression must respect.

use super::table::{Column, RowLabel, Sum, Table, TableError, TableKind, Value};
use super::Period;
use crate::classes::{Participation, ProgrammeKind};
use crate::fiscal::FiscalYear;
use crate::postpartum::occupancy::Occupancy;
use crate::referrals::{CloseReason, ConcernSource};
use crate::timeline::ContactForm;
use serde::Serialize;

/// One facility's use in a fiscal year ([001] 利用実績).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacilityUse {
    pub venue_id: i64,
    pub name_ja: String,
    pub name_en: String,
    pub short_stay_days: u64,
    pub day_care_days: u64,
    pub outreach_visits: u64,
    /// Families with a used day, once each ([001] 実数（組）).
    pub families: u64,
    /// Places the facility's calendar offered for short stay and day care
    /// over the year (the occupancy's denominator); none when it offers neither.
    pub offered_places: Option<u64>,
    /// Places a day of the pool, for reconciling a printed rate (15 at the centre).
    pub places_per_day: u32,
}

impl FacilityUse {
    pub fn facility_days(&self) -> u64 {
        self.short_stay_days.saturating_add(self.day_care_days)
    }

    pub fn occupancy(&self) -> Option<Occupancy> {
        self.offered_places.map(|offered| Occupancy { used_places: self.facility_days(), offered_places: offered })
    }
}

/// Families in an area in a fiscal year, both facilities counted once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AreaCount {
    pub area_id: i64,
    pub name_ja: String,
    pub name_en: String,
    pub families: u64,
}

/// A questionnaire's counts in a fiscal year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScreeningCounts {
    pub questionnaire: String,
    pub given: u64,
    pub positive: u64,
    pub urgent: u64,
    /// Positive or urgent results whose referral was taken up (received or
    /// worked on) within the report's number of days.
    pub followed_up_in_time: u64,
}

/// Referrals raised in a fiscal year from one source, by where they stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReferralCounts {
    pub source: ConcernSource,
    pub open: u64,
    /// Closed, by reason, in [`CloseReason::ALL`] order.
    pub closed: [u64; 4],
}

/// One venue's participation in one programme in a fiscal year ([002]
/// マタニティ教室 実施回数・参加組数・参加人数・夫婦組; [000] セルフケア講座
/// classes and pairs): aggregates only, as classes count them
/// ([`Participation`]: people are the groups plus the partners who came,
/// couples the groups that came with a partner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassVenueFigures {
    pub venue_id: i64,
    pub name_ja: String,
    pub name_en: String,
    pub kind: ProgrammeKind,
    pub figures: Participation,
}

/// The peer-support chat's figures of a fiscal year [003] — counts only,
/// never a message's text nor who wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChatYear {
    /// Rooms opened in the year (a parent joined with an invitation).
    pub rooms_opened: u64,
    /// Parents who wrote in the year (their rooms, once each).
    pub parents: u64,
    /// Messages written in the year by parents, and by supporters.
    pub parent_messages: u64,
    pub supporter_messages: u64,
    /// For each room opened in the year whose parent wrote: seconds from the
    /// parent's first message to the team's first answer after it (none:
    /// not answered yet). In no order; no room named.
    pub first_answers: Vec<Option<u64>>,
    /// Escalations raised in the year whose referral is still open, and
    /// those closed, by reason in [`CloseReason::ALL`] order.
    pub escalations_open: u64,
    pub escalations_closed: [u64; 4],
}

/// Everything a fiscal year's report counts, as the store gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearAggregates {
    pub fiscal_year: FiscalYear,
    pub facilities: Vec<FacilityUse>,
    pub areas: Vec<AreaCount>,
    /// [001] オンライン相談: consultations held (booked, not cancelled).
    pub follow_ups: u64,
    /// [002] 妊娠8か月面談 by form, in [`ContactForm::ALL`] order.
    pub eighth_month: Vec<(ContactForm, u64)>,
    /// [002] はっぴーベビー by form, in [`ContactForm::ALL`] order.
    pub happy_baby: Vec<(ContactForm, u64)>,
    /// [002] 母子手帳会議: meetings held.
    pub handbook_meetings: u64,
    /// 8th-month group sessions held ([002] 集団面談; 健やか親子21: group support).
    pub group_sessions: u64,
    /// 3–4-month check contacts missed or not reached, and of them those
    /// whose situation was then recorded.
    pub check_non_attendees: u64,
    pub check_resolved: u64,
    pub screening: Vec<ScreeningCounts>,
    /// The days within which a positive screen counts as followed up.
    pub follow_up_days: u32,
    pub referrals: Vec<ReferralCounts>,
    /// Pregnancy notifications, and those with the notification questionnaire filed.
    pub notifications: u64,
    pub notifications_with_questionnaire: u64,
    /// Class participation per venue and programme (sessions held with
    /// attendance recorded; [002]'s table, [000]'s self-care totals).
    pub classes: Vec<ClassVenueFigures>,
    /// The chat's figures [003].
    pub chat: ChatYear,
    /// Hours within which a room's first answer counts as in time (the
    /// municipality's setting, [`crate::reports::ReportSettings::chat_answer_hours`]).
    pub chat_answer_hours: u32,
}

fn counts(row: &[u64]) -> Vec<Value> {
    row.iter().map(|&n| Value::Count(n)).collect()
}

/// A grid of counts with a total column (when more than one column) and a
/// totals row (when more than one row), and the sums between them.
pub fn grid(kind: TableKind, rows: Vec<RowLabel>, columns: &[&str], values: &[Vec<u64>]) -> Result<Table, TableError> {
    let n_rows = values.len();
    let n_cols = columns.len();
    let col_total = n_cols > 1;
    let row_total = n_rows > 1;
    let mut cols: Vec<Column> = columns.iter().map(|k| Column::count(k)).collect();
    let mut labels = rows;
    let mut cells: Vec<Vec<u64>> = values.to_vec();
    let mut sums = Vec::new();
    if col_total {
        cols.push(Column::count("total"));
        for (r, row) in cells.iter_mut().enumerate() {
            let total = row.iter().sum();
            row.push(total);
            sums.push(Sum { parts: (0..n_cols).map(|c| (r, c)).collect(), total: (r, n_cols) });
        }
    }
    if row_total {
        let width = cols.len();
        let totals: Vec<u64> = (0..width).map(|c| cells.iter().filter_map(|row| row.get(c)).sum()).collect();
        cells.push(totals);
        labels.push(RowLabel::Total);
        for c in 0..width {
            sums.push(Sum { parts: (0..n_rows).map(|r| (r, c)).collect(), total: (n_rows, c) });
        }
        if col_total {
            // The totals row adds up too (implied by the others, and named
            // so that a lone held-back total in it is seen at once).
            sums.push(Sum { parts: (0..n_cols).map(|c| (n_rows, c)).collect(), total: (n_rows, n_cols) });
        }
    }
    Table::new(kind, cols, labels, cells.iter().map(|r| counts(r)).collect(), sums)
}

/// The facility-days column of [`postpartum_use`] (short stay + day care).
pub const FACILITY_DAYS_COLUMN: usize = 2;

/// [001] 利用実績 per facility: short-stay days, day-care days, their total,
/// families, occupancy, outreach visits; a totals row when there are several.
pub fn postpartum_use(facilities: &[FacilityUse]) -> Result<Table, TableError> {
    const SS: usize = 0;
    const DC: usize = 1;
    const TOTAL: usize = 2;
    let columns = vec![
        Column::count("short_stay_days"),
        Column::count("day_care_days"),
        Column::count("facility_days"),
        Column::count("families"),
        Column::rate("occupancy", TOTAL),
        Column::count("outreach_visits"),
    ];
    let count_cols = [SS, DC, TOTAL, 3, 5];
    let mut rows = Vec::new();
    let mut values = Vec::new();
    let mut sums = Vec::new();
    for (r, f) in facilities.iter().enumerate() {
        rows.push(RowLabel::name(&f.name_ja, &f.name_en));
        values.push(vec![
            Value::Count(f.short_stay_days),
            Value::Count(f.day_care_days),
            Value::Count(f.facility_days()),
            Value::Count(f.families),
            Value::Rate(f.occupancy().and_then(|o| o.rate()).map(|r| r.tenths_of_percent())),
            Value::Count(f.outreach_visits),
        ]);
        sums.push(Sum { parts: vec![(r, SS), (r, DC)], total: (r, TOTAL) });
    }
    let n = facilities.len();
    if n > 1 {
        let sum = |get: fn(&FacilityUse) -> u64| facilities.iter().map(get).sum::<u64>();
        let offered: Option<u64> =
            facilities.iter().filter_map(|f| f.offered_places).reduce(|a, b| a.saturating_add(b));
        let total = sum(FacilityUse::facility_days);
        let rate = offered.and_then(|o| Occupancy { used_places: total, offered_places: o }.rate());
        rows.push(RowLabel::Total);
        values.push(vec![
            Value::Count(sum(|f| f.short_stay_days)),
            Value::Count(sum(|f| f.day_care_days)),
            Value::Count(total),
            Value::Count(sum(|f| f.families)),
            Value::Rate(rate.map(|r| r.tenths_of_percent())),
            Value::Count(sum(|f| f.outreach_visits)),
        ]);
        sums.push(Sum { parts: vec![(n, SS), (n, DC)], total: (n, TOTAL) });
        for c in count_cols {
            sums.push(Sum { parts: (0..n).map(|r| (r, c)).collect(), total: (n, c) });
        }
    }
    Table::new(TableKind::PostpartumUse, columns, rows, values, sums)
}

/// [001] 地域別利用者数（２施設合計）: one row for the year, a column per area and the total.
pub fn users_by_area(fy: FiscalYear, areas: &[AreaCount]) -> Result<Table, TableError> {
    let mut t = grid(
        TableKind::UsersByArea,
        vec![RowLabel::year(fy)],
        &areas.iter().map(|_| "area").collect::<Vec<_>>(),
        &[areas.iter().map(|a| a.families).collect()],
    )?;
    // The columns are the areas, named as recorded.
    for (c, a) in t.columns.iter_mut().zip(areas) {
        c.key = format!("area:{}|{}", a.name_ja, a.name_en);
    }
    Ok(t)
}

/// A column header that names an area (`area:世田谷|Setagaya`) rather than a word key.
pub fn area_names(key: &str) -> Option<(&str, &str)> {
    key.strip_prefix("area:").and_then(|rest| rest.split_once('|'))
}

/// A one-figure table: a row for the year.
fn single(kind: TableKind, fy: FiscalYear, column: Column, n: u64) -> Result<Table, TableError> {
    Table::new(kind, vec![column], vec![RowLabel::year(fy)], vec![vec![Value::Count(n)]], vec![])
}

fn by_form(kind: TableKind, forms: &[(ContactForm, u64)]) -> Result<Table, TableError> {
    grid(
        kind,
        forms.iter().map(|(f, _)| RowLabel::key(&format!("form.{}", form_code(*f)))).collect(),
        &["contacts"],
        &forms.iter().map(|(_, n)| vec![*n]).collect::<Vec<_>>(),
    )
}

pub fn form_code(f: ContactForm) -> &'static str {
    match f {
        ContactForm::Group => "group",
        ContactForm::Individual => "individual",
        ContactForm::HomeVisit => "home_visit",
        ContactForm::SupportRoomVisit => "support_room_visit",
        ContactForm::AtHealthCheck => "at_health_check",
    }
}

/// Every table of a fiscal year's report, in the order the pages show them.
pub fn year_tables(a: &YearAggregates) -> Result<Vec<Table>, TableError> {
    let fy = a.fiscal_year;
    let mut tables = vec![
        postpartum_use(&a.facilities)?,
        users_by_area(fy, &a.areas)?,
        single(TableKind::FollowUps, fy, Column::count("consultations"), a.follow_ups)?,
        by_form(TableKind::EighthMonthInterviews, &a.eighth_month)?,
        by_form(TableKind::HappyBaby, &a.happy_baby)?,
        Table::new(
            TableKind::HandbookMeetings,
            vec![Column::public("meetings_held"), Column::public("group_sessions_held")],
            vec![RowLabel::year(fy)],
            vec![vec![Value::Count(a.handbook_meetings), Value::Count(a.group_sessions)]],
            vec![],
        )?,
    ];
    let resolved = a.check_resolved.min(a.check_non_attendees);
    tables.push(Table::new(
        TableKind::CheckNonAttendees,
        vec![Column::count("situation_known"), Column::count("situation_unknown"), Column::count("non_attendees")],
        vec![RowLabel::year(fy)],
        vec![counts(&[resolved, a.check_non_attendees.saturating_sub(resolved), a.check_non_attendees])],
        vec![Sum { parts: vec![(0, 0), (0, 1)], total: (0, 2) }],
    )?);
    tables.push(screening(&a.screening)?);
    tables.push(referrals(&a.referrals)?);
    tables.push(class_participation(&a.classes)?);
    tables.push(chat_figures(fy, &a.chat, a.chat_answer_hours)?);
    Ok(tables)
}

/// The chat table's columns, in order.
pub const CHAT_ROOMS_OPENED: usize = 0;
pub const CHAT_PARENTS: usize = 1;
pub const CHAT_PARENT_MESSAGES: usize = 2;
pub const CHAT_SUPPORTER_MESSAGES: usize = 3;
pub const CHAT_ANSWERED_IN_TIME: usize = 4;
pub const CHAT_NOT_IN_TIME: usize = 5;
pub const CHAT_ROOMS_ASKED: usize = 6;
pub const CHAT_MEDIAN_MINUTES: usize = 7;
/// Escalations: open, then closed by reason ([`CloseReason::ALL`]), then their total.
pub const CHAT_ESCALATIONS_OPEN: usize = 8;
pub const CHAT_ESCALATIONS_TOTAL: usize = 13;

/// The median of `secs` in whole minutes (the mean of the two middle ones
/// when even), none when empty.
pub fn median_minutes(secs: &[u64]) -> Option<u64> {
    let mut v = secs.to_vec();
    v.sort_unstable();
    let n = v.len();
    let mid = |i: usize| v.get(i).copied();
    let secs = if n == 0 {
        return None;
    } else if n % 2 == 1 {
        mid(n / 2)?
    } else {
        (mid(n / 2 - 1)?.saturating_add(mid(n / 2)?)) / 2
    };
    Some(secs / 60)
}

/// The chat's figures of a fiscal year [003], one row: rooms opened,
/// parents who wrote, messages by parents and by supporters, the rooms
/// opened in the year whose parent wrote split into answered within
/// `answer_hours` and not (answered later or not yet) with their total,
/// the median time to the first answer (minutes; held back with the rooms
/// it measures), escalations by outcome (open, closed by reason) and their
/// total. Every count goes through the one suppression rule.
pub fn chat_figures(fy: FiscalYear, c: &ChatYear, answer_hours: u32) -> Result<Table, TableError> {
    let limit = u64::from(answer_hours).saturating_mul(3_600);
    let answered: Vec<u64> = c.first_answers.iter().filter_map(|a| *a).collect();
    let asked = u64::try_from(c.first_answers.len()).unwrap_or(u64::MAX);
    let in_time = u64::try_from(answered.iter().filter(|s| **s <= limit).count()).unwrap_or(u64::MAX);
    let mut columns = vec![
        Column::count("chat_rooms_opened"),
        Column::count("chat_parents"),
        Column::count("chat_parent_messages"),
        Column::count("chat_supporter_messages"),
        Column::count("chat_answered_in_time"),
        Column::count("chat_not_answered_in_time"),
        Column::count("chat_rooms_asked"),
        Column::measure("chat_median_first_answer_minutes", CHAT_ROOMS_ASKED),
        Column::count("chat_escalations_open"),
    ];
    // Closed, by reason in [`CloseReason::ALL`] order.
    columns.extend([
        Column::count("chat_escalations_resolved"),
        Column::count("chat_escalations_no_concern"),
        Column::count("chat_escalations_duplicate"),
        Column::count("chat_escalations_moved_out"),
    ]);
    columns.push(Column::count("chat_escalations_total"));
    let escalations_total = c.escalations_closed.iter().fold(c.escalations_open, |a, b| a.saturating_add(*b));
    let mut row = vec![
        Value::Count(c.rooms_opened),
        Value::Count(c.parents),
        Value::Count(c.parent_messages),
        Value::Count(c.supporter_messages),
        Value::Count(in_time),
        Value::Count(asked.saturating_sub(in_time)),
        Value::Count(asked),
        median_minutes(&answered).map_or(Value::Rate(None), Value::Count),
        Value::Count(c.escalations_open),
    ];
    row.extend(c.escalations_closed.iter().map(|n| Value::Count(*n)));
    row.push(Value::Count(escalations_total));
    let sums = vec![
        Sum { parts: vec![(0, CHAT_ANSWERED_IN_TIME), (0, CHAT_NOT_IN_TIME)], total: (0, CHAT_ROOMS_ASKED) },
        Sum {
            parts: (CHAT_ESCALATIONS_OPEN..CHAT_ESCALATIONS_TOTAL).map(|c| (0, c)).collect(),
            total: (0, CHAT_ESCALATIONS_TOTAL),
        },
    ];
    Table::new(TableKind::ChatFigures, columns, vec![RowLabel::year(fy)], vec![row], sums)
}

/// The class participation table's columns: sessions held (the
/// municipality's own work, never suppressed, like meetings held), then
/// groups, people and couples (counts of families, suppressed when small).
pub const CLASS_SESSIONS: usize = 0;
pub const CLASS_GROUPS: usize = 1;
pub const CLASS_PEOPLE: usize = 2;
pub const CLASS_COUPLES: usize = 3;

/// [002] マタニティ教室 (実施回数, 参加組数, 参加人数, うち夫婦組) per venue,
/// for every programme with sessions held, in [`ProgrammeKind::ALL`] order;
/// a programme held at several venues gets its totals row ([000] セルフケア
///講座: classes and pairs over the year). The sums the suppression must
/// respect: each row's groups + couples = people (a couple is a group whose
/// partner came too), and each programme's venues add up to its totals.
/// Programmes are never added together (a pair and a couple are different
/// groups).
pub fn class_participation(rows: &[ClassVenueFigures]) -> Result<Table, TableError> {
    let columns = vec![
        Column::public("class_sessions"),
        Column::count("class_groups"),
        Column::count("class_people"),
        Column::count("class_couples"),
    ];
    let cells = |p: &Participation| {
        counts(&[u64::from(p.sessions), u64::from(p.groups), u64::from(p.people), u64::from(p.couples)])
    };
    let mut labels = Vec::new();
    let mut values = Vec::new();
    let mut sums = Vec::new();
    let people_sum = |r: usize| Sum { parts: vec![(r, CLASS_GROUPS), (r, CLASS_COUPLES)], total: (r, CLASS_PEOPLE) };
    for kind in ProgrammeKind::ALL {
        let venues: Vec<&ClassVenueFigures> = rows.iter().filter(|r| r.kind == kind).collect();
        let first = labels.len();
        for v in &venues {
            sums.push(people_sum(labels.len()));
            labels.push(RowLabel::VenueProgramme {
                programme: kind.as_str().to_owned(),
                ja: v.name_ja.clone(),
                en: v.name_en.clone(),
            });
            values.push(cells(&v.figures));
        }
        if venues.len() > 1 {
            let mut total = Participation::default();
            for v in &venues {
                total.sessions = total.sessions.saturating_add(v.figures.sessions);
                total.groups = total.groups.saturating_add(v.figures.groups);
                total.people = total.people.saturating_add(v.figures.people);
                total.couples = total.couples.saturating_add(v.figures.couples);
            }
            let t = labels.len();
            for c in [CLASS_SESSIONS, CLASS_GROUPS, CLASS_PEOPLE, CLASS_COUPLES] {
                sums.push(Sum { parts: (first..t).map(|r| (r, c)).collect(), total: (t, c) });
            }
            sums.push(people_sum(t));
            labels.push(RowLabel::key(&format!("programme.{}", kind.as_str())));
            values.push(cells(&total));
        }
    }
    Table::new(TableKind::ClassParticipation, columns, labels, values, sums)
}

fn screening(rows: &[ScreeningCounts]) -> Result<Table, TableError> {
    let columns = vec![
        Column::count("given"),
        Column::count("positive"),
        Column::count("urgent"),
        Column::count("followed_up_in_time"),
    ];
    let mut labels: Vec<RowLabel> =
        rows.iter().map(|s| RowLabel::key(&format!("questionnaire.{}", s.questionnaire))).collect();
    let mut values: Vec<Vec<Value>> =
        rows.iter().map(|s| counts(&[s.given, s.positive, s.urgent, s.followed_up_in_time])).collect();
    let mut sums = Vec::new();
    let n = rows.len();
    if n > 1 {
        labels.push(RowLabel::Total);
        values.push(counts(&[
            rows.iter().map(|s| s.given).sum(),
            rows.iter().map(|s| s.positive).sum(),
            rows.iter().map(|s| s.urgent).sum(),
            rows.iter().map(|s| s.followed_up_in_time).sum(),
        ]));
        for c in 0..4 {
            sums.push(Sum { parts: (0..n).map(|r| (r, c)).collect(), total: (n, c) });
        }
    }
    Table::new(TableKind::Screening, columns, labels, values, sums)
}

fn referrals(rows: &[ReferralCounts]) -> Result<Table, TableError> {
    let mut columns = vec!["open"];
    columns.extend(CloseReason::ALL.iter().map(|r| r.as_str()));
    let values: Vec<Vec<u64>> =
        rows.iter().map(|r| std::iter::once(r.open).chain(r.closed.iter().copied()).collect()).collect();
    grid(
        TableKind::Referrals,
        rows.iter().map(|r| RowLabel::key(&format!("source.{}", r.source.as_str()))).collect(),
        &columns,
        &values,
    )
}

/// Over a range of years: each facility's days per year, from the yearly
/// *published* tables (their facility-days column), so that it holds back
/// whatever they held back and adds no sum they did not show
/// ([`super::suppression::derived_sum`]).
pub fn across_years(period: &Period, yearly: &[(FiscalYear, super::table::Published)]) -> super::table::Published {
    use super::table::Shown;
    let mut names: Vec<RowLabel> = Vec::new();
    for (_, p) in yearly {
        for label in &p.rows {
            if !matches!(label, RowLabel::Total) && !names.contains(label) {
                names.push(label.clone());
            }
        }
    }
    let years = period.years();
    let mut columns: Vec<Column> =
        years.iter().map(|fy| Column::count(&format!("year:{}|{}", fy.label_ja(), fy.label_en()))).collect();
    columns.push(Column::count("total"));
    let cells: Vec<Vec<Shown>> = names
        .iter()
        .map(|name| {
            let mut row: Vec<Shown> = years
                .iter()
                .map(|fy| {
                    yearly
                        .iter()
                        .find(|(y, _)| y == fy)
                        .and_then(|(_, p)| {
                            let r = p.rows.iter().position(|l| l == name)?;
                            p.cell((r, FACILITY_DAYS_COLUMN))
                        })
                        .unwrap_or(Shown::Count(0))
                })
                .collect();
            row.push(super::suppression::derived_sum(&row));
            row
        })
        .collect();
    super::table::Published {
        kind: TableKind::PostpartumAcrossYears,
        columns,
        rows: names,
        cells,
        suppression: yearly.first().and_then(|(_, p)| p.suppression),
    }
}

/// A column header naming a fiscal year (`year:令和4年度|FY2022`).
pub fn year_names(key: &str) -> Option<(&str, &str)> {
    key.strip_prefix("year:").and_then(|rest| rest.split_once('|'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::suppression::{suppress, SuppressionSettings};
    use crate::reports::table::Shown;

    fn fy(y: i32) -> FiscalYear {
        FiscalYear::new(y).unwrap()
    }

    fn centre(ss: u64, dc: u64, families: u64, offered: u64) -> FacilityUse {
        FacilityUse {
            venue_id: 1,
            name_ja: "産後ケアセンター".into(),
            name_en: "Postpartum care centre".into(),
            short_stay_days: ss,
            day_care_days: dc,
            outreach_visits: 0,
            families,
            offered_places: Some(offered),
            places_per_day: 15,
        }
    }

    #[test]
    fn the_fy2022_centre_figures_through_the_report() {
        // [001] 産後ケアセンター 利用実績 令和4: 3,725 / 706 / 4,431 / 932 / 82.4%
        // (the rate with the places the printed one implies; the seed's
        // calendar gives 81.6%, see reconcile).
        let t = postpartum_use(&[centre(3_725, 706, 932, 5_378)]).unwrap();
        let p = suppress(&t, &SuppressionSettings::default());
        let texts: Vec<String> = p.cells[0].iter().map(Shown::text).collect();
        assert_eq!(texts, vec!["3,725", "706", "4,431", "932", "82.4%", "0"]);
        let computed = postpartum_use(&[centre(3_725, 706, 932, 15 * 362)]).unwrap();
        assert_eq!(computed.unsuppressed().cells[0][4].text(), "81.6%");
    }

    #[test]
    fn the_fy2022_district_table() {
        // [001] 地域別利用者数 令和４年度: 353 / 140 / 256 / 145 / 95 = 989.
        let names = [
            ("世田谷", "Setagaya"),
            ("北沢", "Kitazawa"),
            ("玉川", "Tamagawa"),
            ("砧", "Kinuta"),
            ("烏山", "Karasuyama"),
        ];
        let counts = [353, 140, 256, 145, 95];
        let areas: Vec<AreaCount> = names
            .iter()
            .zip(counts)
            .enumerate()
            .map(|(i, ((ja, en), n))| AreaCount {
                area_id: i as i64,
                name_ja: (*ja).into(),
                name_en: (*en).into(),
                families: n,
            })
            .collect();
        let t = users_by_area(fy(2022), &areas).unwrap();
        let p = suppress(&t, &SuppressionSettings::default());
        let texts: Vec<String> = p.cells[0].iter().map(Shown::text).collect();
        assert_eq!(texts, vec!["353", "140", "256", "145", "95", "989"]);
        assert_eq!(area_names(&p.columns[0].key), Some(("世田谷", "Setagaya")));
        assert_eq!(p.columns[5].key, "total");
    }

    #[test]
    fn two_facilities_with_a_small_one() {
        let mut mamas = centre(0, 7, 5, 3 * 195);
        mamas.venue_id = 2;
        mamas.name_ja = "ママズルーム".into();
        let t = postpartum_use(&[centre(3_725, 706, 932, 5_430), mamas]).unwrap();
        assert_eq!(t.rows.len(), 3);
        let p = suppress(&t, &SuppressionSettings::default());
        // Mama's Room's 7 days and 5 families are held back, with its rate,
        // and the totals row's cells that would give them away — not the
        // centre's figures.
        assert_eq!(p.cells[1][1], Shown::Suppressed);
        assert_eq!(p.cells[1][2], Shown::Suppressed);
        assert_eq!(p.cells[1][3], Shown::Suppressed);
        assert_eq!(p.cells[1][4], Shown::Suppressed);
        let centre: Vec<String> = p.cells[0][..4].iter().map(Shown::text).collect();
        assert_eq!(centre, vec!["3,725", "706", "4,431", "932"]);
        assert_eq!(p.cells[2][2], Shown::Suppressed);
        let held = crate::reports::suppression::held_back(&t, &SuppressionSettings::default());
        let sums: Vec<&Sum> = t.sums.iter().collect();
        assert!(crate::reports::suppression::determined(&held.into_iter().collect::<Vec<_>>(), &sums).is_empty());
    }

    #[test]
    fn across_years_is_built_from_what_was_published() {
        let s = SuppressionSettings::default();
        let y21 = suppress(&postpartum_use(&[centre(3_683, 672, 854, 5_430)]).unwrap(), &s);
        let small = postpartum_use(&[centre(3, 4, 2, 5_430)]).unwrap();
        let y22 = suppress(&small, &s);
        let period = Period::range(fy(2021), fy(2022)).unwrap();
        let p = across_years(&period, &[(fy(2021), y21), (fy(2022), y22)]);
        assert_eq!(p.cells[0][0], Shown::Count(4_355));
        assert_eq!(p.cells[0][1], Shown::Suppressed);
        // The range total would give FY2022 away: held back too.
        assert_eq!(p.cells[0][2], Shown::Suppressed);
        assert_eq!(year_names(&p.columns[0].key), Some(("令和3年度", "FY2021")));
    }

    fn class_row(venue: &str, kind: ProgrammeKind, sessions: u32, groups: u32, couples: u32) -> ClassVenueFigures {
        ClassVenueFigures {
            venue_id: 1,
            name_ja: venue.into(),
            name_en: venue.into(),
            kind,
            figures: Participation { sessions, groups, people: groups + couples, couples },
        }
    }

    #[test]
    fn class_participation_per_venue_with_each_programmes_totals() {
        // [002] マタニティ教室 at two support rooms; [000] セルフケア講座 at one.
        let rows = vec![
            class_row("北沢", ProgrammeKind::MaternityClass, 12, 60, 35),
            class_row("烏山", ProgrammeKind::MaternityClass, 12, 48, 20),
            class_row("世田谷", ProgrammeKind::SelfCare, 24, 150, 0),
        ];
        let t = class_participation(&rows).unwrap();
        // Self-care first (ProgrammeKind::ALL order), alone: no totals row;
        // then the two maternity venues and their totals.
        assert_eq!(t.rows.len(), 4);
        assert!(
            matches!(&t.rows[0], RowLabel::VenueProgramme { programme, ja, .. } if programme == "self_care" && ja == "世田谷")
        );
        assert_eq!(t.rows[3], RowLabel::key("programme.maternity_class"));
        let p = t.unsuppressed();
        let texts: Vec<String> = p.cells[3].iter().map(Shown::text).collect();
        assert_eq!(texts, vec!["24", "108", "163", "55"]);
        // Nothing small: nothing held back.
        assert!(!suppress(&t, &SuppressionSettings::default()).any_suppressed());
        assert_eq!(class_participation(&[]).unwrap().rows.len(), 0);
    }

    #[test]
    fn small_class_figures_are_held_back_and_not_recoverable() {
        // 3 couples at one venue: held back, and since groups + couples =
        // people, one of those goes too; the venue's small counts reach the
        // programme's totals row, which gives way where it would tell.
        let rows = vec![
            class_row("北沢", ProgrammeKind::MaternityClass, 12, 40, 3),
            class_row("烏山", ProgrammeKind::MaternityClass, 2, 5, 2),
        ];
        let t = class_participation(&rows).unwrap();
        let s = SuppressionSettings::default();
        let p = suppress(&t, &s);
        assert_eq!(p.cells[0][CLASS_COUPLES], Shown::Suppressed);
        assert_eq!(p.cells[1][CLASS_GROUPS], Shown::Suppressed);
        assert_eq!(p.cells[1][CLASS_COUPLES], Shown::Suppressed);
        // Sessions held are the municipality's work: shown even when few.
        assert_eq!(p.cells[1][CLASS_SESSIONS], Shown::Count(2));
        let held = crate::reports::suppression::held_back(&t, &s);
        let sums: Vec<&Sum> = t.sums.iter().collect();
        assert!(crate::reports::suppression::determined(&held.into_iter().collect::<Vec<_>>(), &sums).is_empty());
    }

    #[test]
    fn every_year_table_builds_from_empty_and_full_aggregates() {
        let mut a = crate::reports::indicators::tests_support::empty(2022);
        assert_eq!(year_tables(&a).unwrap().len(), 11);
        a.eighth_month = vec![(ContactForm::Group, 117), (ContactForm::Individual, 167), (ContactForm::HomeVisit, 5)];
        a.referrals = ConcernSource::ALL
            .iter()
            .map(|&source| ReferralCounts { source, open: 3, closed: [20, 1, 0, 0] })
            .collect();
        let tables = year_tables(&a).unwrap();
        let interviews = tables.iter().find(|t| t.kind == TableKind::EighthMonthInterviews).unwrap();
        // [002] 妊娠8か月面談: 117 / 167 / 5 = 289 → the 5 visits are held
        // back, and the total with them so that it does not give them away.
        let p = suppress(interviews, &SuppressionSettings::default());
        assert_eq!(p.cells[2][0], Shown::Suppressed);
        assert_eq!(p.cells[3][0], Shown::Suppressed);
        assert_eq!(p.cells[0][0], Shown::Count(117));
        assert_eq!(p.cells[1][0], Shown::Count(167));
    }

    #[test]
    fn chat_figures_count_answers_in_time_and_hold_back_the_median_with_its_rooms() {
        // [003] 12 rooms with a question: 10 answered (half an hour to
        // two days), 2 not yet; the set time is 24 hours.
        let mut c = ChatYear {
            rooms_opened: 15,
            parents: 14,
            parent_messages: 120,
            supporter_messages: 240,
            first_answers: vec![None, None],
            escalations_open: 1,
            escalations_closed: [12, 0, 0, 0],
        };
        for minutes in [30u64, 45, 60, 90, 120, 240, 600, 1_440, 1_441, 2_880] {
            c.first_answers.push(Some(minutes * 60));
        }
        let t = chat_figures(fy(2026), &c, 24).unwrap();
        let p = t.unsuppressed();
        let cell = |col: usize| p.cells[0][col];
        // 24 hours to the second is in time; a minute more is not.
        assert_eq!(cell(CHAT_ANSWERED_IN_TIME), Shown::Count(8));
        assert_eq!(cell(CHAT_NOT_IN_TIME), Shown::Count(4));
        assert_eq!(cell(CHAT_ROOMS_ASKED), Shown::Count(12));
        // The median of the ten answered: (120 + 240) / 2 minutes.
        assert_eq!(cell(CHAT_MEDIAN_MINUTES), Shown::Count(180));
        assert_eq!(cell(CHAT_ESCALATIONS_TOTAL), Shown::Count(13));
        // Through the one rule: the 4 late rooms go, and one of the sum's
        // other cells with them (else the sum would tell); the single open
        // escalation and what gives it away too.
        let s = suppress(&t, &SuppressionSettings::default());
        assert_eq!(s.cells[0][CHAT_NOT_IN_TIME], Shown::Suppressed);
        assert_eq!(s.cells[0][CHAT_ESCALATIONS_OPEN], Shown::Suppressed);
        assert_eq!(s.cells[0][CHAT_ROOMS_OPENED], Shown::Count(15));
        let held = crate::reports::suppression::held_back(&t, &SuppressionSettings::default());
        assert!(held.contains(&(0, CHAT_ROOMS_ASKED)) || held.contains(&(0, CHAT_ANSWERED_IN_TIME)));
        let sums: Vec<&Sum> = t.sums.iter().collect();
        assert!(crate::reports::suppression::determined(&held.into_iter().collect::<Vec<_>>(), &sums).is_empty());
        // The median is held back with the rooms it measures: 3 rooms asked.
        let few = ChatYear { first_answers: vec![Some(600), Some(1_200), None], ..c.clone() };
        let s = suppress(&chat_figures(fy(2026), &few, 24).unwrap(), &SuppressionSettings::default());
        assert_eq!(s.cells[0][CHAT_ROOMS_ASKED], Shown::Suppressed);
        assert_eq!(s.cells[0][CHAT_MEDIAN_MINUTES], Shown::Suppressed);
        // Nothing answered yet: no median ("-"), never 0.
        let quiet = ChatYear { first_answers: vec![None; 11], ..ChatYear::default() };
        let q = chat_figures(fy(2026), &quiet, 24).unwrap().unsuppressed();
        assert_eq!(q.cells[0][CHAT_MEDIAN_MINUTES].text(), "-");
        assert_eq!(median_minutes(&[60, 180, 120]), Some(2));
        assert_eq!(median_minutes(&[]), None);
    }
}
