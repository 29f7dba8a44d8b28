//! The schedule: from one pregnancy's facts to every contact it calls for.
//!
//! Which contacts exist depends only on the pregnancy, its babies, whether it
//! was lost, and the kinds the municipality runs. The EDD, the birth dates,
//! a move and the notification day only move windows and end contacts. That
//! is what lets [`super::reconcile`] converge: after any sequence of changes
//! the stored timeline equals the one built from the final facts.

use super::contact::{CloseReason, Ending, OwedContact, Subject, Window};
use super::dates::{gestational_week_end, gestational_week_start, last_day_under_months, next_month, turns_months};
use super::facts::{BabyFacts, PregnancyFacts, PregnancyState, TimelineFacts};
use super::kinds::{ContactKind, SubjectScope};
use crate::postpartum::eligibility::{pair_last_eligible_day, PairBaby};
use crate::postpartum::ServiceType;
use jiff::civil::Date;
use jiff::ToSpan;

/// How long after the notification the 1st interview is still worth doing
/// before it counts as missed. The seeds and the national programme put it
/// *at* the notification (so it is due that day); four weeks is our choice.
pub const NOTIFICATION_INTERVIEW_GRACE_DAYS: i32 = 27;

/// The most days any window stays open after it is due (the 8th-month
/// interview: end of week 31 to end of week 36 is 35 days; a check or a visit
/// for twins born days apart a little more). The stores bound the overdue
/// list's index range by it, so the range never walks the whole past; a
/// property test holds every rule to it.
pub const MAX_DUE_TO_CLOSE_DAYS: i32 = 62;

/// Every contact the facts call for, each exactly once per subject, in a
/// stable order (kind, then subject).
///
/// - While the pregnancy goes on, the pregnancy contacts exist.
/// - After the birth, the infant contacts exist, per delivery or per baby
///   ([`ContactKind::scope`]). Pregnancy contacts that were due before the
///   birth stay owed (their window now closes the day before the birth);
///   those not yet due end as not applicable.
/// - A loss ends every contact (`pregnancy_lost`) and calls for no infant
///   contact.
/// - A move ends every contact whose window had not closed by the move day
///   (`moved_out`); one already missed before the move stays missed, for a
///   nurse to settle (e.g. by handing it to the new municipality).
/// - A baby's death ends its contacts, hidden (and the delivery's contacts
///   when no baby survives).
pub fn owed_contacts(facts: &TimelineFacts) -> Vec<OwedContact> {
    let p = &facts.pregnancy;
    let mut babies: Vec<&BabyFacts> = Vec::new();
    for b in &facts.babies {
        if !babies.iter().any(|x| x.id == b.id) {
            babies.push(b);
        }
    }
    babies.sort_by_key(|b| b.id);
    let lost = matches!(p.state, PregnancyState::Lost(_));
    // Recorded babies win over the status: a baby on the record must not
    // fall through the gap because the pregnancy's status lags behind.
    let delivery = if lost { None } else { Delivery::of(&babies) };
    let birth = match p.state {
        PregnancyState::Delivered(on) => Some(delivery.map_or(on, |d| d.earliest)),
        _ => delivery.map(|d| d.earliest),
    };

    let mut out = Vec::new();
    for kind in facts.programmes.iter() {
        match kind.scope() {
            SubjectScope::Pregnancy => {
                let (window, ending) = pregnancy_window(kind, p, birth);
                out.push(owed(p, kind, Subject::Pregnancy(p.id), window, ending));
            }
            SubjectScope::Delivery => {
                if let Some(d) = delivery {
                    let all_died = babies.iter().all(|b| b.died_on.is_some());
                    let ending = all_died.then_some(Ending::hidden(CloseReason::BabyDied));
                    out.push(owed(p, kind, Subject::Delivery(p.id), delivery_window(kind, d, &babies), ending));
                }
            }
            SubjectScope::Baby => {
                if delivery.is_some() {
                    for b in &babies {
                        let ending = b.died_on.map(|_| Ending::hidden(CloseReason::BabyDied));
                        out.push(owed(p, kind, Subject::Baby(b.id), baby_window(kind, b, &babies), ending));
                    }
                }
            }
        }
    }

    match p.state {
        PregnancyState::Lost(_) => {
            for c in &mut out {
                c.ending = Some(Ending::closed(CloseReason::PregnancyLost));
            }
        }
        PregnancyState::MovedOut(on) => {
            for c in &mut out {
                if c.ending.is_none() && c.window.closes() >= on {
                    c.ending = Some(Ending::closed(CloseReason::MovedOut));
                }
            }
        }
        PregnancyState::Ongoing | PregnancyState::Delivered(_) => {}
    }
    out
}

fn owed(
    p: &PregnancyFacts,
    kind: ContactKind,
    subject: Subject,
    window: Window,
    ending: Option<Ending>,
) -> OwedContact {
    OwedContact {
        pregnancy: p.id,
        kind,
        subject,
        window,
        owner: kind.owner(),
        with: kind.with(),
        source: kind.source(),
        ending,
    }
}

#[derive(Debug, Clone, Copy)]
struct Delivery {
    /// The first baby's birth date: windows open and fall due from it.
    earliest: Date,
    /// The last baby's (twins can be born either side of midnight): windows
    /// that end an eligibility close from it, so no baby loses a day.
    latest: Date,
}

impl Delivery {
    fn of(babies: &[&BabyFacts]) -> Option<Delivery> {
        let earliest = babies.iter().map(|b| b.birth_date).min()?;
        let latest = babies.iter().map(|b| b.birth_date).max()?;
        Some(Delivery { earliest, latest })
    }
}

fn day_before(d: Date) -> Date {
    d.saturating_sub(1.day())
}

/// The gestational window of a pregnancy contact, then cut to the
/// notification (nobody can be offered anything before the municipality knows
/// of the pregnancy) and to the birth.
fn pregnancy_window(kind: ContactKind, p: &PregnancyFacts, birth: Option<Date>) -> (Window, Option<Ending>) {
    let n = p.notified_on;
    let edd = p.edd;
    let base = match kind {
        // At the notification: due that day. Tied to the notification, not
        // to gestation, so neither clipped nor ended by the birth (a late
        // notification after the birth still gets its interview).
        ContactKind::NotificationInterview => {
            return (Window::ordered(n, n, n.saturating_add(NOTIFICATION_INTERVIEW_GRACE_DAYS.days())), None);
        }
        // [002] 母子健康手帳交付者を毎月抽出し: listed in the month after the
        // notification (the brief's reading; the seed says only "monthly").
        ContactKind::HandbookMeeting => {
            let (first, last) = next_month(n);
            return (Window::ordered(first, last, last), None);
        }
        // "During pregnancy" (DOMAIN.md §3; the seeds give no weeks): from the
        // notification until the day before the EDD.
        ContactKind::MaternityClass => {
            let last = day_before(edd);
            Window::ordered(n.min(last), last, last)
        }
        // [000] 妊娠中(安定期以降): from week 16 (安定期 as usually counted, the
        // 5th month; the seed names no week) while pregnant, i.e. until the day
        // before the EDD.
        ContactKind::PrenatalSelfCareClass => {
            let last = day_before(edd);
            Window::ordered(gestational_week_start(edd, 16), last, last)
        }
        // [002] 妊娠8か月面談: the 8th month is weeks 28–31, so due by the end
        // of week 31. Still worth doing late, until the end of week 36 (the day
        // before full term, 37w0d, after which the birth may come any day).
        ContactKind::EighthMonthInterview => Window::ordered(
            gestational_week_start(edd, 28),
            gestational_week_end(edd, 31),
            gestational_week_end(edd, 36),
        ),
        // Not pregnancy contacts; never reached (scope() routes them elsewhere).
        _ => return (Window::ordered(n, n, n), Some(Ending::closed(CloseReason::NotApplicable))),
    };
    let (window, ending) = clip_to_notification(base, n);
    match (ending, birth) {
        (None, Some(b)) => clip_to_birth(window, b),
        _ => (window, ending),
    }
}

/// Opens no earlier than the notification; a window that closed before the
/// notification was never owed.
fn clip_to_notification(w: Window, notified_on: Date) -> (Window, Option<Ending>) {
    if notified_on > w.closes() {
        return (w, Some(Ending::closed(CloseReason::NotApplicable)));
    }
    let opens = w.opens().max(notified_on);
    (Window::ordered(opens, w.due().max(opens), w.closes()), None)
}

/// A pregnancy contact that was due before the birth stays owed, its window
/// closing the day before the birth; one not yet due was overtaken by the birth.
fn clip_to_birth(w: Window, birth: Date) -> (Window, Option<Ending>) {
    if w.due() >= birth {
        (w, Some(Ending::closed(CloseReason::NotApplicable)))
    } else {
        (Window::ordered(w.opens(), w.due(), w.closes().min(day_before(birth))), None)
    }
}

/// The babies of the birth as postpartum care's age limit sees them: the
/// living ones (a baby who died does not shorten the others' window), or
/// all of them when none lives.
fn pair(babies: &[&BabyFacts]) -> Vec<PairBaby> {
    let living: Vec<&&BabyFacts> = babies.iter().filter(|b| b.died_on.is_none()).collect();
    let chosen: Vec<&&BabyFacts> = if living.is_empty() { babies.iter().collect() } else { living };
    chosen
        .into_iter()
        .map(|b| PairBaby {
            birth: b.birth_date,
            gestational_weeks: b.gestational_weeks,
            gestational_days: b.gestational_days,
            long_hospitalisation: b.long_hospitalisation,
        })
        .collect()
}

fn delivery_window(kind: ContactKind, d: Delivery, babies: &[&BabyFacts]) -> Window {
    let (e, l) = (d.earliest, d.latest);
    match kind {
        // National 乳児家庭全戸訪問: every family with a baby, by 4 months of age.
        ContactKind::NewbornVisit => Window::ordered(e, last_day_under_months(e, 4), last_day_under_months(l, 4)),
        // [002] 産後 2～3か月頃: from 2 months, due while the baby is 2–3 months
        // (the day before 4 months); it may still be done at the 3–4-month
        // check ([002] counts "3・4か月児健診時"), so it closes the day before 5 months.
        ContactKind::HappyBaby => {
            Window::ordered(turns_months(e, 2), last_day_under_months(e, 4), last_day_under_months(l, 5))
        }
        // [000] 受講日に5ヵ月になる前日までの赤ちゃん: the last day is the day
        // before the baby turns 5 months. The seed sets no first day; [000]
        // also says 産後4か月までの親子, which is the same span (through the
        // 4th month of age).
        ContactKind::PostnatalSelfCareClass => {
            let last = last_day_under_months(l, 5);
            Window::ordered(e, last, last)
        }
        // [001] アウトリーチ型 対象者: 産後１年未満の母子 (no corrected age for outreach).
        // The days every baby is eligible for: postpartum care's one rule for
        // a multiple birth (`postpartum::eligibility::deciding_baby`), the
        // same the application and its approval apply.
        ContactKind::PostpartumOutreach => {
            let last = pair_last_eligible_day(ServiceType::Outreach, &pair(babies))
                .unwrap_or_else(|| last_day_under_months(e, 12));
            Window::ordered(e, last, last)
        }
        _ => Window::ordered(e, e, e),
    }
}

fn baby_window(kind: ContactKind, b: &BabyFacts, babies: &[&BabyFacts]) -> Window {
    let birth = b.birth_date;
    match kind {
        // [002] 3・4か月児健診: for babies aged 3 and 4 months, so due by the day
        // before 5 months. Held monthly (年12回), so a baby who missed its
        // session can come to a later one: closes the day before 6 months,
        // after which a non-attendee is missed and stays listed until resolved.
        ContactKind::HealthCheck3To4Months => {
            Window::ordered(turns_months(birth, 3), last_day_under_months(birth, 5), last_day_under_months(birth, 6))
        }
        // [001] 産後４か月未満; 未熟児等で通常より長く入院していた…場合は、修正月齢で計算して４か月未満.
        // One contact per baby, each closing on the pair's last day: the
        // days every baby of the birth is eligible for, postpartum care's
        // one rule for a multiple birth (`postpartum::eligibility::deciding_baby`),
        // so the timeline offers exactly the days an application is granted.
        ContactKind::PostpartumCare => {
            let last = pair_last_eligible_day(ServiceType::ShortStay, &pair(babies))
                .unwrap_or_else(|| last_day_under_months(birth, 4))
                .max(birth);
            Window::ordered(birth, last, last)
        }
        _ => Window::ordered(birth, birth, birth),
    }
}
