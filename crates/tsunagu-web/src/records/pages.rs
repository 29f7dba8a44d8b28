//! The pages of a family's record: home, search, the pregnancy
//! notification, the record (with its timeline and referrals), a birth, and
//! a family's own record.

// A page handler's error *is* a page (a `Response`); boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use crate::base::chrome::{
    area_names, conflict_key, page_error, redirect, render, signed_in, unwrap_page, Chrome, FormData, OrPage,
    PageResult,
};
use crate::base::error::{permit_municipality, AppError};
use crate::base::session::{actor_of, audit_ctx, RequestCtx};
use crate::base::views::ContactLine;
use crate::base::AppState;
use crate::i18n::{Lang, Tr};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use std::collections::HashMap;
use tsunagu_domain::clock::japan_date;
use tsunagu_domain::kana;
use tsunagu_domain::places::Area;
use tsunagu_domain::policy::{authorize, family_filter, Action, Allowed, FamilyAccess, Resource};
use tsunagu_domain::records::{
    BabyInput, BirthInput, FamilyRecord, FamilySummary, NotificationInput, PersonInput, Pregnancy,
};
use tsunagu_domain::roles::Role;
use tsunagu_domain::timeline::ContactStatus;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{FamilyId, PregnancyId};
use tsunagu_store::{Account, ReferralFilter};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/families", get(search_page))
        .route("/families/new", get(notification_page).post(notification_submit))
        .route("/families/{id}", get(family_page))
        .route("/families/{id}/pregnancies/{pregnancy}/birth", get(birth_page).post(birth_submit))
        .route("/me", get(my_record))
        .route("/me/sharing", post(sharing_submit))
        .route("/families/{id}/partner-view", post(partner_view_submit))
}

// --- home -----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    municipality: String,
}

async fn home(State(state): State<AppState>, ctx: RequestCtx) -> Response {
    unwrap_page(
        async {
            let account = match ctx.signed_in() {
                Ok((_, a)) => a,
                Err(_) if ctx.session.is_some() => return Ok(redirect("/signin/totp")),
                Err(_) => return Ok(redirect("/signin")),
            };
            // Role: where each role starts is a landing page, not an access (each
            // page then asks the policy).
            match account.role {
                Role::FamilyMember => return Ok(redirect("/me")),
                // Nurses and coordinators start from what is waiting for them.
                Role::Nurse | Role::Coordinator => return Ok(redirect("/worklist")),
                Role::Caseworker => return Ok(redirect("/families")),
                Role::Admin => return Ok(redirect("/admin/accounts")),
                Role::FacilityStaff => return Ok(redirect("/postpartum")),
                _ => {}
            }
            let m = state.store.municipality(account.municipality_id).await.or_page(&ctx)?;
            let municipality = m.map(|m| if ctx.lang == Lang::Ja { m.name_ja } else { m.name_en }).unwrap_or_default();
            Ok(render(&HomePage { chrome: Chrome::new(&ctx, "/", "home.title"), municipality }, StatusCode::OK))
        }
        .await,
    )
}

// --- families -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    searched: bool,
    /// The query has kanji, which the kana search cannot match: say how to search.
    kanji: bool,
    rows: Vec<FamilySummary>,
    areas: HashMap<i64, String>,
}

impl SearchPage {
    fn area(&self, id: &tsunagu_domain::AreaId) -> &str {
        self.areas.get(&id.0).map(String::as_str).unwrap_or("")
    }
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: Option<String>,
}

async fn search_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    q: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            let allowed = permit_municipality(&actor, Action::SearchFamilies).or_page(&ctx)?;
            let filter = family_filter(&actor).ok_or_else(|| page_error(&ctx, AppError::Forbidden))?;
            let q = q.ok().and_then(|Query(q)| q.q).unwrap_or_default();
            let q: String = q.chars().take(50).collect();
            let key = kana::search_key(&q);
            let searched = !key.is_empty();
            // Names are searched by their reading; a kanji query is answered with a hint.
            let kanji = q.chars().any(
                |c| matches!(c, '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '々'),
            );
            let rows = if searched {
                let audit = audit_ctx(account, &ctx.remote_addr, "search", ctx.now).allowed(&allowed);
                state.store.search_families(&audit, &filter, &key, 100).await.or_page(&ctx)?
            } else {
                vec![]
            };
            let areas = area_names(&state.store.areas(account.municipality_id).await.or_page(&ctx)?, ctx.lang);
            Ok(render(
                &SearchPage { chrome: Chrome::new(&ctx, "/families", "search.title"), q, searched, kanji, rows, areas },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

#[derive(Template)]
#[template(path = "notification.html")]
struct NotificationPage {
    chrome: Chrome,
    areas: Vec<Area>,
    values: HashMap<String, String>,
    errors: FieldErrors,
    form_error: Option<&'static str>,
}

impl NotificationPage {
    fn v(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }

    fn checked(&self, k: &str) -> bool {
        matches!(self.v(k), "on" | "true" | "1")
    }

    fn err(&self, k: &str) -> Option<&'static str> {
        self.errors.for_field(k).map(|code| crate::i18n::t(self.chrome.tr.0, &format!("err.{code}")))
    }

    fn area_name<'a>(&self, a: &'a Area) -> &'a str {
        if self.chrome.tr.0 == Lang::Ja {
            &a.name_ja
        } else {
            &a.name_en
        }
    }
}

fn can_register(ctx: &RequestCtx, account: &Account) -> Result<Allowed, Response> {
    permit_municipality(&actor_of(account), Action::RegisterNotification).or_page(ctx)
}

async fn notification_page(State(state): State<AppState>, ctx: RequestCtx) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            can_register(&ctx, account)?;
            let areas = state.store.areas(account.municipality_id).await.or_page(&ctx)?;
            let mut values = HashMap::new();
            values.insert("foetuses".to_owned(), "1".to_owned());
            values.insert("notified_on".to_owned(), state.clock.today().to_string());
            Ok(render(
                &NotificationPage {
                    chrome: Chrome::new(&ctx, "/families/new", "notif.title"),
                    areas,
                    values,
                    errors: FieldErrors::default(),
                    form_error: None,
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

fn person_from_form(form: &FormData, prefix: &str) -> PersonInput {
    PersonInput {
        family_name: form.get(&format!("{prefix}.family_name")).to_owned(),
        given_name: form.get(&format!("{prefix}.given_name")).to_owned(),
        family_name_kana: form.get(&format!("{prefix}.family_name_kana")).to_owned(),
        given_name_kana: form.get(&format!("{prefix}.given_name_kana")).to_owned(),
        birth_date: form.opt(&format!("{prefix}.birth_date")),
    }
}

async fn notification_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let allowed = can_register(&ctx, account)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let mut errors = FieldErrors::default();
            let area_id = form.get("area_id").trim().parse::<i64>().unwrap_or(0);
            let foetuses = match form.get("foetuses").trim().parse::<i64>() {
                Ok(n) => n,
                Err(_) => {
                    errors.add("foetuses", "out_of_range");
                    1
                }
            };
            let has_partner = form.checked("has_partner");
            let input = NotificationInput {
                area_id,
                fee_bracket: form.get("fee_bracket").to_owned(),
                consent_coordinators: form.checked("consent_coordinators"),
                consent_hubs: form.checked("consent_hubs"),
                notified_on: form.opt("notified_on"),
                edd: form.get("edd").to_owned(),
                foetuses,
                first_child: form.checked("first_child"),
                handbook_number: form.opt("handbook_number"),
                mother: person_from_form(&form, "mother"),
                partner: has_partner.then(|| person_from_form(&form, "partner")),
            };
            let checked = input.check(state.clock.today());
            let outcome = match (checked, errors.is_empty()) {
                (Ok(n), true) => {
                    let audit =
                        audit_ctx(account, &ctx.remote_addr, "pregnancy notification", ctx.now).allowed(&allowed);
                    match state.store.register_notification(&audit, &n).await {
                        Ok(id) => return Ok(redirect(&format!("/families/{id}?saved=notification"))),
                        Err(tsunagu_store::StoreError::Conflict(code)) => (errors, Some(conflict_key(code))),
                        Err(tsunagu_store::StoreError::InvalidReference(field)) => {
                            errors.add(field, "unknown_reference");
                            (errors, None)
                        }
                        Err(e) => return Err(page_error(&ctx, e.into())),
                    }
                }
                (Ok(_), false) => (errors, None),
                (Err(mut e), _) => {
                    e.0.extend(errors.0);
                    (e, None)
                }
            };
            let (errors, form_error) = outcome;
            let areas = state.store.areas(account.municipality_id).await.or_page(&ctx)?;
            Ok(render(
                &NotificationPage {
                    chrome: Chrome::new(&ctx, "/families/new", "notif.title"),
                    areas,
                    values: form.map(),
                    errors,
                    form_error: Some(form_error.unwrap_or("notif.fix")),
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        .await,
    )
}

#[derive(Template)]
#[template(path = "family.html")]
struct FamilyPage {
    chrome: Chrome,
    record: FamilyRecord,
    area: String,
    can_edit: bool,
    saved: Option<&'static str>,
    own: bool,
    /// May raise a concern about this family (a referral to its nurse).
    can_raise: bool,
    /// The family's referrals, for nurses.
    referrals: Vec<tsunagu_store::StoredReferral>,
    /// The contacts the family is owed, with where each stands today.
    timeline: Vec<crate::base::views::ContactLine>,
    /// After a change of a pregnancy: what happened, or what was wrong.
    change_notice: Option<String>,
    change_failed: bool,
    /// May see the family's screening results (and enter paper forms).
    can_screen: bool,
    /// May answer the family's questionnaires (the mother, on her own record).
    can_answer: bool,
    /// The mother, on her own record: whether her partner sees her health items.
    sharing: Option<bool>,
    /// A nurse: whether the partner's view of the family is off.
    partner_view: Option<bool>,
    /// The family's own page: the week of each pregnancy and each child's
    /// age today, in the reader's words.
    now: Vec<String>,
    /// The family's own page: what comes next (at most three contacts).
    next: Vec<NextLine>,
}

/// A contact, class booking or postpartum stay ahead of the family, as its
/// own page leads with it (#10): what, for whom, when, where, what to bring.
struct NextLine {
    /// A contact's kind, or `class` / `stay`.
    kind: &'static str,
    /// What it is, in the reader's words.
    what: String,
    /// The child (or children: twins are named per child) it is about; empty when it is the mother's.
    whom: String,
    /// When, in the reader's words (a contact's window, a class's day and time, a stay's days).
    when: String,
    /// A contact's day to aim for, when it is not the window's last.
    about: Option<String>,
    /// Where (a class's venue, a stay's facility); empty for a contact.
    place: String,
    /// What to bring (a key of the words); none for a contact.
    bring: Option<&'static str>,
    /// A class booking on the waiting list.
    waiting: bool,
    /// The day it is ordered by.
    day: jiff::civil::Date,
}

/// The names of the children a contact is about: one baby's name, or
/// every baby of a delivery when there is more than one (twins and triplets
/// are named on every line); empty otherwise. A baby without a given name
/// yet is named by its place in its delivery (`baby_label`).
fn children_of(tr: Tr, record: &FamilyRecord, subject: tsunagu_domain::timeline::Subject) -> String {
    use tsunagu_domain::timeline::Subject;
    match subject {
        Subject::Baby(id) => {
            record.babies.iter().find(|b| b.id == id).map(|b| baby_label(tr, record, b)).unwrap_or_default()
        }
        Subject::Delivery(pregnancy) => {
            let names: Vec<String> = record
                .babies
                .iter()
                .filter(|b| b.pregnancy_id == pregnancy)
                .map(|b| baby_label(tr, record, b))
                .filter(|n| !n.is_empty())
                .collect();
            if names.len() > 1 {
                names.join("・")
            } else {
                String::new()
            }
        }
        Subject::Pregnancy(_) => String::new(),
    }
}

/// A baby as the family's lines name it: its given name; before one is
/// recorded, its place among the babies of its delivery in the family's
/// words (「ふたごの1人目」「みつごの2人目」, "twin 1"), in the order the
/// birth was recorded; empty for an only baby without a name (nothing to
/// tell apart).
pub(crate) fn baby_label(tr: Tr, record: &FamilyRecord, b: &tsunagu_domain::records::Baby) -> String {
    let given = record.person(b.person_id).map(|p| p.given_name.trim().to_owned()).unwrap_or_default();
    if !given.is_empty() {
        return given;
    }
    let mut delivery: Vec<_> =
        record.babies.iter().filter(|x| x.pregnancy_id == b.pregnancy_id).map(|x| x.id).collect();
    delivery.sort_by_key(|id| id.0);
    let n = delivery.iter().position(|id| *id == b.id).map_or(1, |i| i + 1);
    let word = match delivery.len() {
        0 | 1 => return String::new(),
        2 => tr.t("me.baby_twin"),
        3 => tr.t("me.baby_triplet"),
        _ => tr.t("me.baby_multiple"),
    };
    match tr.0 {
        Lang::Ja => format!("{word}の{n}人目"),
        _ => format!("{word} {n}"),
    }
}

/// What a family's own page leads with: where each pregnancy and child is
/// today, and the next contacts (open or upcoming, soonest due first).
fn family_now(
    chrome: &Chrome,
    record: &FamilyRecord,
    lines: &[crate::base::views::ContactLine],
    upcoming: &[tsunagu_store::UpcomingItem],
    today: jiff::civil::Date,
) -> (Vec<String>, Vec<NextLine>) {
    let dates = &chrome.dates;
    let tr = chrome.tr;
    let mut now = Vec::new();
    for p in &record.pregnancies {
        if p.status == tsunagu_domain::records::PregnancyStatus::Ongoing {
            let week = dates.gestation(p.edd, today);
            if !week.is_empty() {
                now.push(week);
            }
        }
    }
    for b in &record.babies {
        let age = dates.age(b.birth_date, today);
        let name = baby_label(tr, record, b);
        if !age.is_empty() {
            now.push(if name.is_empty() { age } else { format!("{name}　{age}") });
        }
    }
    // A contact whose day is set (a group interview) is shown by its day
    // and place below, not by its window.
    let grouped: Vec<tsunagu_domain::PregnancyId> = upcoming
        .iter()
        .filter(|u| matches!(u.what, tsunagu_store::UpcomingWhat::Group))
        .filter_map(|u| u.pregnancy_id)
        .collect();
    let mut ahead: Vec<&crate::base::views::ContactLine> = lines
        .iter()
        .filter(|l| matches!(l.status, ContactStatus::Upcoming | ContactStatus::Open | ContactStatus::DueSoon))
        .filter(|l| {
            let set = matches!(l.row.contact.subject, tsunagu_domain::timeline::Subject::Pregnancy(p) if grouped.contains(&p));
            !(set && l.kind() == "eighth_month_interview")
        })
        .collect();
    ahead.sort_by_key(|l| (l.due(), l.opens(), l.row.contact.id));
    let mut next: Vec<NextLine> = ahead
        .into_iter()
        .take(3)
        .map(|l| {
            let started = l.opens() <= today;
            let when = if started {
                format!("{} {} {}", tr.t("me.next_until"), dates.date(l.closes()), tr.t("me.next_until_after"))
            } else {
                format!("{} {} {}", tr.t("me.next_from"), dates.date(l.opens()), tr.t("me.next_from_after"))
            };
            NextLine {
                kind: l.kind(),
                what: tr.tk("kind.", l.kind()).to_owned(),
                whom: children_of(tr, record, l.row.contact.subject),
                when,
                about: (l.due() != l.closes()).then(|| format!("{} {}", tr.t("me.next_about"), dates.date(l.due()))),
                place: String::new(),
                bring: None,
                waiting: false,
                // Contacts keep their order (by the day to aim for) among the bookings.
                day: l.due(),
            }
        })
        .collect();
    let ja = tr.0 == Lang::Ja;
    for u in upcoming {
        let place = if ja { u.venue_ja.clone() } else { u.venue_en.clone() };
        let line = match &u.what {
            tsunagu_store::UpcomingWhat::Class { programme, waiting } => NextLine {
                kind: "class",
                what: tr.tk("rp.programme.", programme).to_owned(),
                whom: u
                    .pregnancy_id
                    .map(|p| children_of(tr, record, tsunagu_domain::timeline::Subject::Delivery(p)))
                    .unwrap_or_default(),
                when: if u.starts.is_empty() {
                    dates.date(u.first_day)
                } else {
                    format!("{} {}{}", dates.date(u.first_day), u.starts, tr.t("me.next_starts"))
                },
                about: None,
                place,
                bring: Some("me.bring_class"),
                waiting: *waiting,
                day: u.first_day,
            },
            tsunagu_store::UpcomingWhat::Group => NextLine {
                kind: "group",
                what: tr.tk("kind.", "eighth_month_interview").to_owned(),
                whom: String::new(),
                when: dates.date(u.first_day),
                about: None,
                place,
                bring: None,
                waiting: false,
                day: u.first_day,
            },
            tsunagu_store::UpcomingWhat::Stay { service } => NextLine {
                kind: "stay",
                what: format!("{}（{}）", tr.t("me.next_stay"), tr.tk("pp.service.", service)),
                whom: latest_children(tr, record),
                when: tsunagu_domain::dates::DateRange::new(u.first_day, u.last_day)
                    .map(|r| dates.range(r))
                    .unwrap_or_else(|_| dates.date(u.first_day)),
                about: None,
                place,
                bring: Some("me.bring_stay"),
                waiting: false,
                day: u.first_day,
            },
        };
        next.push(line);
    }
    // In date order: contacts, bookings and stays together (a stable sort
    // keeps a day's contacts first).
    next.sort_by_key(|n| n.day);
    next.truncate(5);
    (now, next)
}

/// The babies of the family's latest delivery when there is more than one
/// (a stay is for the mother and her babies: twins are named per child).
fn latest_children(tr: Tr, record: &FamilyRecord) -> String {
    record
        .babies
        .iter()
        .map(|b| b.pregnancy_id)
        .max_by_key(|p| p.0)
        .map(|p| children_of(tr, record, tsunagu_domain::timeline::Subject::Delivery(p)))
        .unwrap_or_default()
}

impl FamilyPage {
    fn person_name(&self, id: &tsunagu_domain::PersonId) -> String {
        self.record.person(*id).map(|p| p.full_name()).unwrap_or_default()
    }

    /// A baby in the children's table: its name, and before a given name is
    /// recorded, its place among twins or triplets too (「ふたごの1人目」).
    fn baby_name(&self, b: &tsunagu_domain::records::Baby) -> String {
        let full = self.person_name(&b.person_id);
        let given = self.record.person(b.person_id).is_some_and(|p| !p.given_name.trim().is_empty());
        let label = baby_label(self.chrome.tr, &self.record, b);
        if given || label.is_empty() {
            full
        } else {
            format!("{full}（{label}）")
        }
    }

    fn person_kana(&self, id: &tsunagu_domain::PersonId) -> String {
        self.record.person(*id).map(|p| p.full_kana()).unwrap_or_default()
    }

    fn ongoing(&self, p: &Pregnancy) -> bool {
        p.status == tsunagu_domain::records::PregnancyStatus::Ongoing
    }

    /// The child or children a timeline line is about (see `children_of`).
    fn child_of(&self, l: &crate::base::views::ContactLine) -> String {
        children_of(self.chrome.tr, &self.record, l.row.contact.subject)
    }

    /// A heading or a status in the family's words on its own page (not the
    /// office's 期間/期限/状態), the office's elsewhere.
    fn word(&self, key: &'static str) -> &'static str {
        if !self.own {
            return key;
        }
        match key {
            "wl.window" => "fam.when",
            "wl.due" => "fam.about",
            "pp.status" => "fam.status",
            "cstatus." => "fstatus.",
            other => other,
        }
    }

    /// A move out can still be recorded after the birth.
    fn may_move(&self, p: &Pregnancy) -> bool {
        matches!(
            p.status,
            tsunagu_domain::records::PregnancyStatus::Ongoing | tsunagu_domain::records::PregnancyStatus::Delivered
        )
    }
}

#[derive(Deserialize)]
struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// A family's page, on the policy's decision to let `account` view it
/// (`family_for`, made once by the caller).
async fn show_family(
    state: &AppState,
    ctx: &RequestCtx,
    account: &Account,
    (access, allowed): (FamilyAccess, Allowed),
    saved: Option<String>,
    own: bool,
) -> PageResult {
    let actor = actor_of(account);
    let id = access.family_id;
    let audit =
        audit_ctx(account, &ctx.remote_addr, if own { "own record" } else { "view record" }, ctx.now).allowed(&allowed);
    // The nurse (whoever manages referrals) sees the family's referrals on
    // its record; the record, its contacts and those are one read.
    let manages =
        !own && authorize(&actor, Action::ManageReferrals, &Resource::Municipality(actor.municipality_id)).is_allowed();
    let all_referrals = ReferralFilter { family_id: Some(id), raised_by: None, open_only: false, limit: 200 };
    // The family's own page reads its bookings and stays ahead with the
    // record (one statement); the mother's stays only where the policy lets
    // this account see her health items.
    let upcoming = own.then(|| tsunagu_store::UpcomingFilter {
        from: japan_date(ctx.now),
        stays: authorize(&actor, Action::ViewHealth, &Resource::Family(&access)).is_allowed(),
        limit: 5,
    });
    // The city's areas (for the area's name) beside the page's reads.
    let (page, areas) = tokio::try_join!(
        state.store.family_page(&audit, id, manages.then_some(&all_referrals), upcoming.as_ref()),
        state.store.areas(account.municipality_id)
    )
    .or_page(ctx)?;
    let page = page.ok_or_else(|| page_error(ctx, AppError::NotFound))?;
    let (record, referrals) = (page.record, page.referrals);
    let names = area_names(&areas, ctx.lang);
    let area = names.get(&record.family.area_id.0).cloned().unwrap_or_default();
    let can_edit = !own && authorize(&actor, Action::EditFamily, &Resource::Family(&access)).is_allowed();
    let change_notice = saved.as_deref().and_then(|s| pregnancy_notice(ctx.lang, s));
    let change_failed = saved.as_deref().is_some_and(|s| s.starts_with("pregnancy."));
    let saved = match saved.as_deref() {
        Some("notification") => Some("notif.saved"),
        Some("birth") => Some("birth.saved"),
        Some("concern") => Some("ref.raised"),
        Some("concern_note") => Some("ref.note_required"),
        Some("sharing") => Some("share.saved"),
        Some("partner_view") => Some("share.partner_view_saved"),
        _ => None,
    };
    let can_raise = !own && authorize(&actor, Action::RaiseConcern, &Resource::Family(&access)).is_allowed();
    let timeline = family_timeline(ctx, &actor, &access, page.contacts, own, &names);
    let can_screen = !own && authorize(&actor, Action::ViewScreenings, &Resource::Family(&access)).is_allowed();
    let can_answer = own && authorize(&actor, Action::FileScreening, &Resource::Family(&access)).is_allowed();
    let sharing = authorize(&actor, Action::ShareWithPartner, &Resource::Family(&access))
        .is_allowed()
        .then_some(access.partner_sees_health);
    let partner_view = authorize(&actor, Action::SetPartnerView, &Resource::Family(&access))
        .is_allowed()
        .then_some(access.partner_view_off);
    let here = if own { "/me".to_owned() } else { format!("/families/{id}") };
    let title = if own { "me.title" } else { "family.title" };
    let chrome = Chrome::new(ctx, &here, title);
    let (now, next) = if own {
        family_now(&chrome, &record, &timeline, &page.upcoming, japan_date(ctx.now))
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(render(
        &FamilyPage {
            chrome,
            record,
            area,
            can_edit,
            saved,
            own,
            can_raise,
            referrals,
            timeline,
            change_notice,
            change_failed,
            can_screen,
            can_answer,
            sharing,
            partner_view,
            now,
            next,
        },
        StatusCode::OK,
    ))
}

/// The family page's timeline section: the family's contacts, with where
/// each stands today (hidden ones are never shown, nor a note not written
/// for the reader). `names` are the area names the family page has read.
fn family_timeline(
    ctx: &RequestCtx,
    actor: &tsunagu_domain::roles::Actor,
    access: &tsunagu_domain::policy::FamilyAccess,
    mut rows: Vec<tsunagu_store::ContactRow>,
    own: bool,
    names: &HashMap<i64, String>,
) -> Vec<ContactLine> {
    rows.retain(|r| !r.contact.is_hidden());
    for r in &mut rows {
        crate::base::access::keep_note_for(actor, access, r);
    }
    let today = japan_date(ctx.now);
    let mut lines: Vec<ContactLine> = rows.into_iter().map(|r| ContactLine::of(r, today, names)).collect();
    if own {
        // A family sees what is ahead of them and what they used, not the
        // office's bookkeeping (missed, closed by a change of facts).
        lines.retain(|l| {
            matches!(
                l.status,
                ContactStatus::Upcoming | ContactStatus::Open | ContactStatus::DueSoon | ContactStatus::Done
            )
        });
    }
    lines
}

/// Words for a change's notice or error on the family page.
fn pregnancy_notice(lang: Lang, saved: &str) -> Option<String> {
    if saved == "pregnancy" {
        return Some(crate::i18n::t(lang, "preg.updated").to_owned());
    }
    let code = saved.strip_prefix("pregnancy.")?;
    let key = format!("err.{code}");
    Some(crate::i18n::t(lang, if crate::i18n::has(&key) { &key } else { "err.invalid_input" }).to_owned())
}

async fn family_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let id = id.parse::<i64>().map(FamilyId).map_err(|_| page_error(&ctx, AppError::NotFound))?;
            // The staff's view of a record is for those who may read what the
            // office keeps; a family opening it by URL gets its own view.
            let actor = actor_of(account);
            let (access, allowed) =
                crate::base::access::family_for(&state, &actor, id, Action::ViewFamily).await.or_page(&ctx)?;
            if !authorize(&actor, Action::ViewOfficeNotes, &Resource::Family(&access)).is_allowed() {
                return Ok(redirect("/me"));
            }
            show_family(&state, &ctx, account, (access, allowed), q.saved.or(q.done).or(q.error), false).await
        }
        .await,
    )
}

async fn my_record(State(state): State<AppState>, ctx: RequestCtx, Query(q): Query<SavedQuery>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let id = account.family_id.ok_or_else(|| page_error(&ctx, AppError::Forbidden))?;
            let decided = crate::base::access::family_for(&state, &actor_of(account), id, Action::ViewFamily)
                .await
                .or_page(&ctx)?;
            show_family(&state, &ctx, account, decided, q.saved, true).await
        }
        .await,
    )
}

/// The mother's choice of what her partner's account sees of her health items.
async fn sharing_submit(State(state): State<AppState>, ctx: RequestCtx, Form(form): Form<FormData>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let id = account.family_id.ok_or_else(|| page_error(&ctx, AppError::Forbidden))?;
            let actor = actor_of(account);
            let (_, allowed) =
                crate::base::access::family_for(&state, &actor, id, Action::ShareWithPartner).await.or_page(&ctx)?;
            let audit = audit_ctx(account, &ctx.remote_addr, "partner sharing", ctx.now).allowed(&allowed);
            let shared = form.checked("partner_sees_health");
            state.store.set_partner_sees_health(&audit, id, shared).await.or_page(&ctx)?;
            Ok(redirect("/me?saved=sharing"))
        }
        .await,
    )
}

/// A nurse turns the partner's view of a family off, or on again. The
/// partner is not told: their pages become neutral.
async fn partner_view_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let id = id.parse::<i64>().map(FamilyId).map_err(|_| page_error(&ctx, AppError::NotFound))?;
            let actor = actor_of(account);
            let (_, allowed) =
                crate::base::access::family_for(&state, &actor, id, Action::SetPartnerView).await.or_page(&ctx)?;
            let off = match form.get("partner_view") {
                "off" => true,
                "on" => false,
                _ => return Err(page_error(&ctx, AppError::BadRequest("bad_request"))),
            };
            let audit = audit_ctx(account, &ctx.remote_addr, "partner view", ctx.now).allowed(&allowed);
            state.store.set_partner_view_off(&audit, id, off).await.or_page(&ctx)?;
            Ok(redirect(&format!("/families/{id}?saved=partner_view")))
        }
        .await,
    )
}

#[derive(Template)]
#[template(path = "birth.html")]
struct BirthPage {
    chrome: Chrome,
    family_id: FamilyId,
    pregnancy: Pregnancy,
    values: HashMap<String, String>,
    errors: FieldErrors,
    form_error: Option<&'static str>,
    /// Today in Japan: the last day a birth may be on.
    today: jiff::civil::Date,
}

impl BirthPage {
    /// The fields with an error, for the banner: (the field's id, its name
    /// as the form labels it: 赤ちゃん 1・出生日).
    fn error_fields(&self) -> Vec<(String, String)> {
        let tr = self.chrome.tr;
        self.errors
            .0
            .iter()
            .filter_map(|e| {
                let rest = e.field.strip_prefix("babies.")?;
                let (i, name) = rest.split_once('.')?;
                let n = i.parse::<usize>().ok()?.saturating_add(1);
                let label = match name {
                    "birth_weight_g" => "birth.weight",
                    "birth_date" => "birth.birth_date",
                    "sex" => "birth.sex",
                    "given_name" => "birth.given_name",
                    "given_name_kana" => "birth.given_name_kana",
                    "gestational_weeks" => "birth.gestational_weeks",
                    "gestational_days" => "birth.gestational_days",
                    _ => return None,
                };
                Some((format!("babies-{i}-{name}"), format!("{} {n}・{}", tr.t("birth.baby"), tr.t(label))))
            })
            .collect()
    }

    /// A birth date's error says which days are allowed.
    fn birth_date_err(&self, i: &usize) -> Option<String> {
        let code = self.errors.for_field(&format!("babies.{i}.birth_date"))?;
        let (earliest, latest) = tsunagu_domain::records::birth_date_bounds(&self.pregnancy);
        let after = ("err.birth_on_or_after_pre", "err.birth_on_or_after_post");
        let before = ("err.birth_on_or_before_pre", "err.birth_on_or_before_post");
        let (keys, day) = match code {
            "birth_before_pregnancy" => (after, earliest),
            "birth_too_late" => (before, latest.min(self.today)),
            "date_in_future" => (before, self.today),
            other => return Some(crate::i18n::t(self.chrome.tr.0, &format!("err.{other}")).to_owned()),
        };
        let lang = self.chrome.tr.0;
        let (pre, post) = (crate::i18n::t(lang, keys.0), crate::i18n::t(lang, keys.1));
        Some(format!("{pre}{}{post}", self.chrome.date(day)))
    }

    fn v(&self, i: &usize, k: &str) -> &str {
        self.values.get(&format!("babies.{i}.{k}")).map(String::as_str).unwrap_or("")
    }

    fn checked(&self, i: &usize, k: &str) -> bool {
        matches!(self.v(i, k), "on" | "true" | "1")
    }

    fn err(&self, i: &usize, k: &str) -> Option<&'static str> {
        self.errors.for_field(&format!("babies.{i}.{k}")).map(|c| crate::i18n::t(self.chrome.tr.0, &format!("err.{c}")))
    }

    fn babies_err(&self) -> Option<&'static str> {
        self.errors.for_field("babies").map(|c| crate::i18n::t(self.chrome.tr.0, &format!("err.{c}")))
    }

    fn slots(&self) -> Vec<usize> {
        (0..usize::from(self.pregnancy.foetuses)).collect()
    }
}

async fn birth_context(
    state: &AppState,
    ctx: &RequestCtx,
    id: &str,
    pregnancy: &str,
) -> Result<(Account, FamilyId, Pregnancy, Allowed), Response> {
    let account = signed_in(ctx)?.clone();
    let id = id.parse::<i64>().map(FamilyId).map_err(|_| page_error(ctx, AppError::NotFound))?;
    let pid = pregnancy.parse::<i64>().map(PregnancyId).map_err(|_| page_error(ctx, AppError::NotFound))?;
    let (_, allowed) =
        crate::base::access::family_for(state, &actor_of(&account), id, Action::EditFamily).await.or_page(ctx)?;
    let audit = audit_ctx(&account, &ctx.remote_addr, "record birth", ctx.now).allowed(&allowed);
    let record =
        state.store.open_family(&audit, id).await.or_page(ctx)?.ok_or_else(|| page_error(ctx, AppError::NotFound))?;
    let p = record.pregnancies.into_iter().find(|p| p.id == pid).ok_or_else(|| page_error(ctx, AppError::NotFound))?;
    Ok((account, id, p, allowed))
}

async fn birth_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path((id, pregnancy)): Path<(String, String)>,
) -> Response {
    unwrap_page(
        async {
            let (_, family_id, pregnancy, _) = birth_context(&state, &ctx, &id, &pregnancy).await?;
            let here = format!("/families/{family_id}/pregnancies/{}/birth", pregnancy.id);
            Ok(render(
                &BirthPage {
                    chrome: Chrome::new(&ctx, &here, "birth.title"),
                    family_id,
                    pregnancy,
                    values: HashMap::new(),
                    errors: FieldErrors::default(),
                    form_error: None,
                    today: japan_date(ctx.now),
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

async fn birth_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path((id, pregnancy)): Path<(String, String)>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?.clone();
            let family_id = id.parse::<i64>().map(FamilyId).map_err(|_| page_error(&ctx, AppError::NotFound))?;
            let pid = pregnancy.parse::<i64>().map(PregnancyId).map_err(|_| page_error(&ctx, AppError::NotFound))?;
            let (_, allowed) =
                crate::base::access::family_for(&state, &actor_of(&account), family_id, Action::EditFamily)
                    .await
                    .or_page(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let mut errors = FieldErrors::default();
            let mut babies = Vec::new();
            // The form has a block per foetus notified (at most MAX_FOETUSES);
            // the check against the pregnancy refuses more babies than that.
            let blocks = usize::try_from(tsunagu_domain::records::MAX_FOETUSES).unwrap_or(0);
            for i in 0..blocks {
                let f = |k: &str| form.get(&format!("babies.{i}.{k}")).trim().to_owned();
                // A block left wholly empty is a foetus not (yet) born.
                if f("birth_date").is_empty() && f("gestational_weeks").is_empty() && f("birth_weight_g").is_empty() {
                    continue;
                }
                let num = |k: &str, errors: &mut FieldErrors| -> i64 {
                    let s = f(k);
                    if s.is_empty() {
                        return 0;
                    }
                    s.parse().unwrap_or_else(|_| {
                        errors.add(format!("babies.{i}.{k}"), "out_of_range");
                        0
                    })
                };
                let weeks = num("gestational_weeks", &mut errors);
                let days = num("gestational_days", &mut errors);
                let weight = num("birth_weight_g", &mut errors);
                babies.push(BabyInput {
                    birth_date: f("birth_date"),
                    sex: f("sex"),
                    given_name: Some(f("given_name")),
                    given_name_kana: Some(f("given_name_kana")),
                    gestational_weeks: weeks,
                    gestational_days: days,
                    birth_weight_g: (weight != 0).then_some(weight),
                    long_hospitalisation: form.checked(&format!("babies.{i}.long_hospitalisation")),
                });
            }
            let input = BirthInput { babies };
            let today = state.clock.today();
            let mut form_error = Some("notif.fix");
            let mut checked = false;
            if errors.is_empty() {
                // Checked against the pregnancy inside the birth's own
                // transaction: the birth is the one audit line.
                let audit = audit_ctx(&account, &ctx.remote_addr, "record birth", ctx.now).allowed(&allowed);
                match state.store.record_birth_checked(&audit, family_id, pid, &|p| input.check(p, today)).await {
                    Ok(_) => return Ok(redirect(&format!("/families/{family_id}?saved=birth"))),
                    Err(tsunagu_store::StoreError::Invalid(e)) => {
                        checked = true;
                        errors.0.extend(e.0);
                    }
                    Err(tsunagu_store::StoreError::Conflict(code)) => {
                        checked = true;
                        form_error = Some(conflict_key(code));
                    }
                    Err(e) => return Err(page_error(&ctx, e.into())),
                }
            }
            // The form again, with what was wrong: the pregnancy is read for it.
            let (_, _, pregnancy, _) = birth_context(&state, &ctx, &id, &pregnancy).await?;
            if !checked {
                if let Err(e) = input.check(&pregnancy, today) {
                    errors.0.extend(e.0);
                }
            }
            let here = format!("/families/{family_id}/pregnancies/{}/birth", pregnancy.id);
            Ok(render(
                &BirthPage {
                    chrome: Chrome::new(&ctx, &here, "birth.title"),
                    family_id,
                    pregnancy,
                    values: form.map(),
                    errors,
                    form_error,
                    today: japan_date(ctx.now),
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        .await,
    )
}
