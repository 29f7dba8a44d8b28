//! Pages for screening questionnaires: a family answers on a phone
//! (`/me/screenings`), staff enter a paper form for a family and see its
//! responses with their results (`/families/{id}/screenings`).

// A page handler's error *is* a page (a `Response`); boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use crate::base::chrome::{page_error, redirect, render, signed_in, unwrap_page, Chrome, FormData, OrPage};
use crate::base::error::AppError;
use crate::base::session::{actor_of, audit_ctx, RequestCtx};
use crate::base::AppState;
use crate::i18n::Lang;
use crate::screening::{self as scr, fhir_response, ScreeningInput};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use std::collections::BTreeMap;
use tsunagu_domain::policy::Action;
use tsunagu_domain::screening::QuestionnaireDef;
use tsunagu_domain::validation::FieldErrors;
use tsunagu_domain::{FamilyId, ScreeningId};
use tsunagu_store::StoredScreening;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/screenings", get(my_list))
        .route("/me/screenings/{questionnaire}", get(my_form).post(my_submit))
        .route("/families/{id}/screenings", get(family_list))
        .route("/families/{id}/screenings/new/{questionnaire}", get(staff_form).post(staff_submit))
        .route("/screenings/{id}", get(detail_page))
        .route("/screenings/{id}/fhir", get(fhir_download))
}

/// Japan time, as the reader reads it (`base::dates`).
fn jst(lang: Lang, t: jiff::Timestamp) -> String {
    crate::base::dates::Dates::of(lang).stamp(t)
}

// --- the form, shared by the family and staff ----------------------------------------------

/// One option of an item as the form shows it.
struct OptionView {
    code: String,
    label: String,
    checked: bool,
}

/// One item: a radio group with its placeholder text and its error, if any.
struct ItemView {
    id: String,
    /// Its number in the form (1-based), as the banner names it.
    number: usize,
    label: String,
    options: Vec<OptionView>,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "screening_form.html")]
struct FormPage {
    chrome: Chrome,
    action: String,
    /// For staff: whose form it is.
    mother_name: Option<String>,
    items: Vec<ItemView>,
    has_errors: bool,
    back: String,
}

impl FormPage {
    /// The questions with an error, as the banner names them (#10): (the
    /// item's element id, 「質問 3」), in the form's order.
    fn error_fields(&self) -> Vec<(String, String)> {
        let word = self.chrome.tr.t("scr.question_n");
        self.items
            .iter()
            .filter(|i| i.error.is_some())
            .map(|i| (format!("item-{}", i.id), format!("{word} {}", i.number)))
            .collect()
    }
}

/// The item errors as words next to each item.
fn item_error(lang: Lang, errors: &FieldErrors, item: &str) -> Option<&'static str> {
    errors.for_field(&format!("answers.{item}")).map(|code| crate::i18n::t(lang, &format!("scr.err.{code}")))
}

fn items(lang: Lang, def: &QuestionnaireDef, chosen: &BTreeMap<String, String>, errors: &FieldErrors) -> Vec<ItemView> {
    def.items
        .iter()
        .enumerate()
        .map(|(i, item)| ItemView {
            id: item.id.clone(),
            number: i.saturating_add(1),
            label: scr::item_label(lang, def, i),
            options: item
                .options
                .iter()
                .enumerate()
                .map(|(j, o)| OptionView {
                    code: o.code.clone(),
                    label: scr::option_label(lang, &o.code, j),
                    checked: chosen.get(&item.id) == Some(&o.code),
                })
                .collect(),
            error: item_error(lang, errors, &item.id),
        })
        .collect()
}

/// The answers of a submitted form: `answers.<item>` → option code.
fn answers_of(form: &FormData) -> BTreeMap<String, String> {
    form.map()
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix("answers.").map(|item| (item.to_owned(), v.trim().to_owned())))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

fn title_key(def: &QuestionnaireDef) -> String {
    format!("scr.q.{}", def.id)
}

struct FormSpec<'a> {
    def: &'a QuestionnaireDef,
    action: String,
    back: String,
    mother_name: Option<String>,
}

fn form_page(
    ctx: &RequestCtx,
    spec: FormSpec<'_>,
    chosen: &BTreeMap<String, String>,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let page = FormPage {
        chrome: Chrome::new(ctx, &spec.action, &title_key(spec.def)),
        items: items(ctx.lang, spec.def, chosen, errors),
        has_errors: !errors.is_empty(),
        action: spec.action,
        mother_name: spec.mother_name,
        back: spec.back,
    };
    render(&page, status)
}

fn definition_or_404(ctx: &RequestCtx, id: &str) -> Result<QuestionnaireDef, Response> {
    scr::definition(id).ok_or_else(|| page_error(ctx, AppError::NotFound))
}

// --- the family, on a phone --------------------------------------------------------------------

#[derive(Template)]
#[template(path = "screenings_me.html")]
struct MyListPage {
    chrome: Chrome,
    /// (questionnaire id, title) of each questionnaire addressed to the family now.
    addressed: Vec<(String, &'static str)>,
}

/// The family's own account and what is addressed to it now (reading the
/// record is audited as the family's own read).
async fn my_context(
    state: &AppState,
    ctx: &RequestCtx,
) -> Result<(tsunagu_store::Account, FamilyId, Vec<QuestionnaireDef>), Response> {
    let account = signed_in(ctx)?.clone();
    let family = account.family_id.ok_or_else(|| page_error(ctx, AppError::Forbidden))?;
    let actor = actor_of(&account);
    let (_, allowed) =
        crate::base::access::family_for(state, &actor, family, tsunagu_domain::policy::Action::FileScreening)
            .await
            .or_page(ctx)?;
    let audit = audit_ctx(&account, &ctx.remote_addr, "own questionnaires", ctx.now).allowed(&allowed);
    let record = state
        .store
        .open_family(&audit, family)
        .await
        .or_page(ctx)?
        .ok_or_else(|| page_error(ctx, AppError::NotFound))?;
    let addressed = scr::addressed_to_family(&record, state.clock.today()).into_iter().map(|(d, _)| d).collect();
    Ok((account, family, addressed))
}

async fn my_list(State(state): State<AppState>, ctx: RequestCtx) -> Response {
    unwrap_page(
        async {
            let (_, _, addressed) = my_context(&state, &ctx).await?;
            let addressed = addressed.iter().map(|d| (d.id.clone(), scr::title(ctx.lang, &d.id))).collect();
            Ok(render(
                &MyListPage { chrome: Chrome::new(&ctx, "/me/screenings", "scr.title"), addressed },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

fn my_spec(def: &QuestionnaireDef) -> FormSpec<'_> {
    FormSpec { def, action: format!("/me/screenings/{}", def.id), back: "/me/screenings".to_owned(), mother_name: None }
}

async fn my_form(State(state): State<AppState>, ctx: RequestCtx, Path(q): Path<String>) -> Response {
    unwrap_page(
        async {
            let (_, _, addressed) = my_context(&state, &ctx).await?;
            let def = addressed.into_iter().find(|d| d.id == q).ok_or_else(|| page_error(&ctx, AppError::NotFound))?;
            Ok(form_page(&ctx, my_spec(&def), &BTreeMap::new(), &FieldErrors::default(), StatusCode::OK))
        }
        .await,
    )
}

#[derive(Template)]
#[template(path = "screening_thanks.html")]
struct ThanksPage {
    chrome: Chrome,
    /// Say that staff will call soon (an urgent result). Never the score.
    help_now: bool,
    /// Where to get help now, whatever the answers: the municipality's own
    /// lines (set by its administrator, as the chat shows them), then the
    /// national ones.
    help_lines: Vec<tsunagu_domain::chat::helplines::HelpLine>,
}

impl ThanksPage {
    fn line_name<'a>(&self, l: &'a tsunagu_domain::chat::helplines::HelpLine) -> &'a str {
        match self.chrome.tr.0 {
            Lang::Ja => &l.name_ja,
            Lang::En => &l.name_en,
        }
    }

    /// The number as a `tel:` link dials it: digits only.
    fn dial(&self, l: &tsunagu_domain::chat::helplines::HelpLine) -> String {
        l.number.chars().filter(char::is_ascii_digit).collect()
    }
}

/// The family's answers: a calm confirmation, rendered in answer to the
/// POST (no redirect: whether help is shown must not sit in a URL).
async fn my_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(q): Path<String>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let family = account.family_id.ok_or_else(|| page_error(&ctx, AppError::Forbidden))?;
            let def = definition_or_404(&ctx, &q)?;
            let chosen = answers_of(&form);
            let input = ScreeningInput {
                questionnaire: def.id.clone(),
                version: None,
                answers: chosen.clone(),
                pregnancy_id: None,
            };
            let audit = audit_ctx(account, &ctx.remote_addr, "own questionnaire", ctx.now);
            match scr::file(&state, &actor_of(account), &audit, family, &input).await {
                Ok(filed) => {
                    let help_now = filed.result.urgent;
                    // The lines are the municipality's settings, nobody's record: no audit line.
                    let own = state.store.help_lines(account.municipality_id).await.or_page(&ctx)?;
                    let help_lines = tsunagu_domain::chat::helplines::shown(&own);
                    Ok(render(
                        &ThanksPage {
                            chrome: Chrome::new(&ctx, "/me/screenings", "scr.thanks_title"),
                            help_now,
                            help_lines,
                        },
                        StatusCode::OK,
                    ))
                }
                Err(AppError::Invalid(errors)) => {
                    Ok(form_page(&ctx, my_spec(&def), &chosen, &errors, StatusCode::UNPROCESSABLE_ENTITY))
                }
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}

// --- staff ----------------------------------------------------------------------------------

/// A response as a staff list shows it.
struct Row {
    s: StoredScreening,
    title: &'static str,
    max_total: Option<u32>,
    reasons: Vec<&'static str>,
    when: String,
}

impl Row {
    fn new(lang: Lang, s: StoredScreening) -> Row {
        let def = scr::definition(&s.questionnaire).filter(|d| d.version == s.version);
        let mut reasons: Vec<&'static str> = Vec::new();
        for r in &s.reasons {
            let words = scr::reason(lang, &r.code);
            if !reasons.contains(&words) {
                reasons.push(words);
            }
        }
        Row {
            title: scr::title(lang, &s.questionnaire),
            max_total: def.map(|d| d.max_total()),
            reasons,
            when: jst(lang, s.entered_at),
            s,
        }
    }

    fn result_key(&self) -> &'static str {
        if self.s.urgent {
            "scr.result.urgent"
        } else if self.s.positive {
            "scr.result.positive"
        } else {
            "scr.result.negative"
        }
    }

    fn total(&self) -> String {
        match self.max_total {
            Some(max) => format!("{} / {max}", self.s.total),
            None => self.s.total.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "screenings.html")]
struct FamilyListPage {
    chrome: Chrome,
    family_id: FamilyId,
    mother_name: String,
    rows: Vec<Row>,
    /// (questionnaire id, title) the caller may enter from paper.
    enterable: Vec<(String, &'static str)>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
struct Notice {
    #[serde(default)]
    done: Option<String>,
}

/// The mother's name for staff pages; reading the record is audited.
async fn mother_name(
    state: &AppState,
    ctx: &RequestCtx,
    family: FamilyId,
    action: tsunagu_domain::policy::Action,
    reason: &str,
) -> Result<String, Response> {
    let account = signed_in(ctx)?;
    let (_, allowed) = crate::base::access::family_for(state, &actor_of(account), family, action).await.or_page(ctx)?;
    let audit = audit_ctx(account, &ctx.remote_addr, reason, ctx.now).allowed(&allowed);
    let record = state
        .store
        .open_family(&audit, family)
        .await
        .or_page(ctx)?
        .ok_or_else(|| page_error(ctx, AppError::NotFound))?;
    Ok(record.mother().map(|m| m.full_name()).unwrap_or_default())
}

async fn family_list(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let actor = actor_of(account);
            let family = FamilyId(id);
            let audit = audit_ctx(account, &ctx.remote_addr, "screenings", ctx.now);
            let (list, mother) = scr::list_with_mother(&state, &actor, &audit, family).await.or_page(&ctx)?;
            let mother_name = mother.map(|m| m.full_name()).unwrap_or_default();
            let may_file =
                crate::base::access::family_for(&state, &actor, family, tsunagu_domain::policy::Action::FileScreening)
                    .await
                    .is_ok();
            let enterable = if may_file {
                scr::enterable_by(account.role).iter().map(|d| (d.id.clone(), scr::title(ctx.lang, &d.id))).collect()
            } else {
                vec![]
            };
            let notice = match n.done.as_deref() {
                Some("referral") => Some("scr.recorded_referral"),
                Some(_) => Some("scr.recorded"),
                None => None,
            };
            let rows = list.into_iter().map(|s| Row::new(ctx.lang, s)).collect();
            Ok(render(
                &FamilyListPage {
                    chrome: Chrome::new(&ctx, &format!("/families/{id}/screenings"), "scr.staff_title"),
                    family_id: family,
                    mother_name,
                    rows,
                    enterable,
                    notice,
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

fn staff_spec(def: &QuestionnaireDef, family: FamilyId, mother_name: String) -> FormSpec<'_> {
    FormSpec {
        def,
        action: format!("/families/{family}/screenings/new/{}", def.id),
        back: format!("/families/{family}/screenings"),
        mother_name: Some(mother_name),
    }
}

/// The questionnaire, if the caller may enter it for the family (facts
/// only: nothing of the person is read, so nothing is audited).
async fn staff_questionnaire(
    state: &AppState,
    ctx: &RequestCtx,
    family: FamilyId,
    q: &str,
) -> Result<QuestionnaireDef, Response> {
    let account = signed_in(ctx)?;
    let actor = actor_of(account);
    if actor.family_id.is_some() {
        // A family answers on its own page, and never sees a staff view.
        return Err(redirect("/me/screenings"));
    }
    crate::base::access::family_for(state, &actor, family, Action::FileScreening).await.or_page(ctx)?;
    let def = definition_or_404(ctx, q)?;
    if !tsunagu_domain::screening::may_enter(&def, account.role) {
        return Err(page_error(ctx, AppError::Forbidden));
    }
    Ok(def)
}

async fn staff_form(State(state): State<AppState>, ctx: RequestCtx, Path((id, q)): Path<(i64, String)>) -> Response {
    unwrap_page(
        async {
            let family = FamilyId(id);
            let def = staff_questionnaire(&state, &ctx, family, &q).await?;
            let name = mother_name(&state, &ctx, family, Action::FileScreening, "enter questionnaire").await?;
            Ok(form_page(
                &ctx,
                staff_spec(&def, family, name),
                &BTreeMap::new(),
                &FieldErrors::default(),
                StatusCode::OK,
            ))
        }
        .await,
    )
}

async fn staff_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path((id, q)): Path<(i64, String)>,
    Form(form): Form<FormData>,
) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            ctx.check_csrf(form.get("_csrf")).or_page(&ctx)?;
            let family = FamilyId(id);
            let def = staff_questionnaire(&state, &ctx, family, &q).await?;
            let chosen = answers_of(&form);
            let input = ScreeningInput {
                questionnaire: def.id.clone(),
                version: None,
                answers: chosen.clone(),
                pregnancy_id: None,
            };
            let audit = audit_ctx(account, &ctx.remote_addr, "questionnaire from paper", ctx.now);
            match scr::file(&state, &actor_of(account), &audit, family, &input).await {
                Ok(filed) => {
                    let done = if filed.recorded.referral.is_some() { "referral" } else { "recorded" };
                    Ok(redirect(&format!("/families/{family}/screenings?done={done}")))
                }
                Err(AppError::Invalid(errors)) => Ok(form_page(
                    &ctx,
                    staff_spec(
                        &def,
                        family,
                        // Read for the form shown again (its own line), not for filing.
                        mother_name(&state, &ctx, family, Action::FileScreening, "enter questionnaire").await?,
                    ),
                    &chosen,
                    &errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )),
                Err(e) => Err(page_error(&ctx, e)),
            }
        }
        .await,
    )
}

/// One answered item: its placeholder, the answer chosen and its score.
struct AnswerRow {
    label: String,
    answer: String,
    score: Option<u8>,
}

#[derive(Template)]
#[template(path = "screening.html")]
struct DetailPage {
    chrome: Chrome,
    row: Row,
    answers: Vec<AnswerRow>,
}

fn answer_rows(lang: Lang, s: &StoredScreening) -> Vec<AnswerRow> {
    match scr::definition(&s.questionnaire).filter(|d| d.version == s.version) {
        Some(def) => def
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let code = s.answers.get(&item.id)?;
                let position = item.options.iter().position(|o| &o.code == code)?;
                Some(AnswerRow {
                    label: scr::item_label(lang, &def, i),
                    answer: scr::option_label(lang, code, position),
                    score: item.option(code).map(|o| o.score),
                })
            })
            .collect(),
        // An unknown version: the answers as stored, without scores.
        None => s.answers.iter().map(|(k, v)| AnswerRow { label: k.clone(), answer: v.clone(), score: None }).collect(),
    }
}

async fn detail_page(State(state): State<AppState>, ctx: RequestCtx, Path(id): Path<i64>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let audit = audit_ctx(account, &ctx.remote_addr, "screening", ctx.now);
            let (s, _) = scr::one(&state, &actor_of(account), &audit, ScreeningId(id)).await.or_page(&ctx)?;
            let answers = answer_rows(ctx.lang, &s);
            Ok(render(
                &DetailPage {
                    chrome: Chrome::new(&ctx, &format!("/screenings/{id}"), "scr.detail_title"),
                    row: Row::new(ctx.lang, s),
                    answers,
                },
                StatusCode::OK,
            ))
        }
        .await,
    )
}

/// The FHIR R4 bundle of a response, downloaded from its page.
async fn fhir_download(State(state): State<AppState>, ctx: RequestCtx, Path(id): Path<i64>) -> Response {
    unwrap_page(
        async {
            let account = signed_in(&ctx)?;
            let audit = audit_ctx(account, &ctx.remote_addr, "screening FHIR export", ctx.now);
            let bundle = scr::fhir_export(&state, &actor_of(account), &audit, ScreeningId(id)).await.or_page(&ctx)?;
            Ok(fhir_response(&bundle))
        }
        .await,
    )
}
