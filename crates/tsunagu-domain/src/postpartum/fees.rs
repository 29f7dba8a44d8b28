//! What a family pays: the published fee table as configuration data and a
//! pure quote over it. [001] 利用料① ② and 令和５年度以降の取組 (２)(３).
//!
//! Fees are per day (short stay, day care) or per visit (outreach), by
//! household bracket ([`FeeBracket`]: 課税世帯, 非課税世帯 including
//! households taxed only per capita, 生活保護受給世帯), with separate rows
//! for the mother and baby, a preschool sibling, and each extra baby of a
//! multiple birth. The outreach reductions for non-taxed and public-assistance
//! households exist ("減免あり") but their amounts are not published: they
//! are `None` in [`FeeTable::setagaya`], a municipality's setting. Until a
//! municipality sets them, a quote for those households is not a refusal:
//! it says that a reduction applies and that the city will confirm the
//! amount ([`Quote::amount_to_be_confirmed`]); the nurse records the amount
//! when she approves.

use super::ServiceType;
pub use crate::records::FeeBracket;
use serde::{Deserialize, Serialize};

/// Per-day fees of one service type for one bracket, in yen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyFees {
    /// 母子利用: mother and baby, per day.
    pub mother_and_baby_yen: u32,
    /// きょうだい利用: one preschool sibling, per day.
    pub sibling_yen: u32,
    /// 多胎利用: each baby of a multiple birth after the first, per day.
    pub extra_baby_yen: u32,
}

/// Outreach fees for one bracket, in yen per visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitFees {
    /// 利用料 １回あたり.
    pub visit_yen: u32,
    /// 多胎児２人目以降 加算, per extra baby per visit.
    pub extra_baby_yen: u32,
}

/// All fees of one household bracket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BracketFees {
    pub short_stay: DailyFees,
    pub day_care: DailyFees,
    /// `None` where the municipality has not configured the amount.
    pub outreach: Option<VisitFees>,
}

/// The fee table of a municipality: configuration, not code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeTable {
    pub taxed: BracketFees,
    pub non_taxed: BracketFees,
    pub public_assistance: BracketFees,
    /// The most days (or outreach visits) one application may cover, if the
    /// municipality sets one. [001] states no maximum (its longest example,
    /// 6 nights / 7 days, is an example, not a limit), so there is none by
    /// default: a request is then bounded only by
    /// [`MAX_REQUESTED_DAYS`](super::application::MAX_REQUESTED_DAYS) and
    /// the babies' age limits.
    #[serde(default)]
    pub max_days: Option<u32>,
}

/// At most one preschool sibling per family may come along.
///
/// Seed: [001] 対象者: 未就学児のきょうだい（１家族１人まで）
pub const MAX_SIBLINGS: u32 = 1;

/// The most babies of one birth a quote accepts (quintuplets). [001] prices
/// "多胎児２人目以降" without an upper limit; records accept up to 5 foetuses.
pub const MAX_BABIES: u32 = 5;

impl FeeTable {
    /// Setagaya's published table.
    ///
    /// Seed: [001] 利用料① (母子利用, きょうだい利用), 利用料② (多胎利用), (３) アウトリーチ型 利用料
    pub fn setagaya() -> Self {
        let zero = DailyFees { mother_and_baby_yen: 0, sibling_yen: 0, extra_baby_yen: 0 };
        FeeTable {
            taxed: BracketFees {
                short_stay: DailyFees { mother_and_baby_yen: 4_500, sibling_yen: 1_700, extra_baby_yen: 500 },
                day_care: DailyFees { mother_and_baby_yen: 3_000, sibling_yen: 1_000, extra_baby_yen: 250 },
                // [001] (３) 利用料：１回あたり２，０００円 ※多胎児２人目以降：２００円加算
                outreach: Some(VisitFees { visit_yen: 2_000, extra_baby_yen: 200 }),
            },
            non_taxed: BracketFees {
                short_stay: DailyFees { mother_and_baby_yen: 1_500, sibling_yen: 900, extra_baby_yen: 250 },
                day_care: DailyFees { mother_and_baby_yen: 1_000, sibling_yen: 600, extra_baby_yen: 120 },
                // [001] (３) ※非課税世帯、生活保護受給世帯は減免あり — amount not published.
                outreach: None,
            },
            public_assistance: BracketFees { short_stay: zero, day_care: zero, outreach: None },
            max_days: None,
        }
    }

    pub fn bracket(&self, bracket: FeeBracket) -> &BracketFees {
        match bracket {
            FeeBracket::Taxed => &self.taxed,
            FeeBracket::NonTaxed => &self.non_taxed,
            FeeBracket::PublicAssistance => &self.public_assistance,
        }
    }

    /// The table with a bracket's outreach fees configured.
    pub fn with_outreach(mut self, bracket: FeeBracket, fees: VisitFees) -> Self {
        match bracket {
            FeeBracket::Taxed => self.taxed.outreach = Some(fees),
            FeeBracket::NonTaxed => self.non_taxed.outreach = Some(fees),
            FeeBracket::PublicAssistance => self.public_assistance.outreach = Some(fees),
        }
        self
    }
}

/// What is asked to be priced. `days` counts days of a stay or of day care
/// (6 nights are 7 days), or visits for outreach. `babies` counts the babies
/// of the birth who come (2 for twins). `siblings` counts preschool siblings
/// who come along.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    pub bracket: FeeBracket,
    pub service: ServiceType,
    pub days: u32,
    pub babies: u32,
    pub siblings: u32,
}

/// One component of a fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeeComponent {
    /// Mother and baby, per day.
    MotherAndBaby,
    /// A preschool sibling, per day.
    Sibling,
    /// Each extra baby of a multiple birth, per day (quantity = days × extra babies).
    ExtraBaby,
    /// An outreach visit.
    OutreachVisit,
    /// Each extra baby of a multiple birth, per outreach visit (quantity = visits × extra babies).
    OutreachExtraBaby,
}

impl FeeComponent {
    pub fn as_str(self) -> &'static str {
        match self {
            FeeComponent::MotherAndBaby => "mother_and_baby",
            FeeComponent::Sibling => "sibling",
            FeeComponent::ExtraBaby => "extra_baby",
            FeeComponent::OutreachVisit => "outreach_visit",
            FeeComponent::OutreachExtraBaby => "outreach_extra_baby",
        }
    }

    /// The seed's words for the row.
    pub fn label_ja(self) -> &'static str {
        match self {
            FeeComponent::MotherAndBaby => "母子利用",
            FeeComponent::Sibling => "きょうだい利用",
            FeeComponent::ExtraBaby => "多胎利用（２人目以降）",
            FeeComponent::OutreachVisit => "アウトリーチ（１回）",
            FeeComponent::OutreachExtraBaby => "多胎児２人目以降加算",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeeLine {
    pub component: FeeComponent,
    pub unit_yen: u32,
    pub quantity: u32,
    pub amount_yen: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quote {
    pub total_yen: u32,
    /// One line per component that applies, in the order of the table:
    /// mother and baby (or the visit), sibling, extra babies.
    pub lines: Vec<FeeLine>,
    /// A reduction applies whose amount the municipality has not set
    /// ([001] (３) ※非課税世帯、生活保護受給世帯は減免あり): no lines, a total
    /// of 0, and the city confirms the amount (the nurse records it at approval).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub amount_to_be_confirmed: bool,
}

impl Quote {
    pub fn line(&self, component: FeeComponent) -> Option<&FeeLine> {
        self.lines.iter().find(|l| l.component == component)
    }
}

/// Why a request cannot be priced. The codes are shown to users and are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    #[error("days must be between 1 and {max}, not {days}")]
    DaysOutOfRange { days: u32, max: u32 },
    #[error("babies must be between 1 and {max}, not {babies}")]
    BabiesOutOfRange { babies: u32, max: u32 },
    #[error("at most {max} preschool sibling may come along, not {siblings}")]
    TooManySiblings { siblings: u32, max: u32 },
    #[error("siblings do not come along on {service}; the fee table has no sibling row for it")]
    SiblingsNotOffered { service: ServiceType },
    #[error("the amount does not fit in the fee arithmetic")]
    AmountTooLarge,
}

impl QuoteError {
    /// The stable code pages and the API show.
    pub fn code(&self) -> &'static str {
        match self {
            QuoteError::DaysOutOfRange { .. } => "days_out_of_range",
            QuoteError::BabiesOutOfRange { .. } => "babies_out_of_range",
            QuoteError::TooManySiblings { .. } => "too_many_siblings",
            QuoteError::SiblingsNotOffered { .. } => "siblings_not_offered",
            QuoteError::AmountTooLarge => "amount_too_large",
        }
    }
}

fn line(component: FeeComponent, unit_yen: u32, quantity: u32) -> Result<Option<FeeLine>, QuoteError> {
    if quantity == 0 {
        return Ok(None);
    }
    let amount_yen = unit_yen.checked_mul(quantity).ok_or(QuoteError::AmountTooLarge)?;
    Ok(Some(FeeLine { component, unit_yen, quantity, amount_yen }))
}

/// Prices a request against a fee table.
///
/// Per day (short stay, day care): mother and baby × days, + sibling × days,
/// + extra baby × (babies − 1) × days. Per visit (outreach): visit × visits,
/// + extra baby × (babies − 1) × visits.
///
/// Seed: [001] 利用料①②: （例）課税世帯・母子・６泊７日：３１，５００円（４，５００円×７日）;
/// 非課税世帯・母子・６泊７日：１０，５００円; 課税世帯・母子・双子・２泊３日：１５，０００円
/// （４，５００円×３日＋５００円×３日）; 非課税世帯・母子・きょうだい・２泊３日：７，２００円
/// （１，５００円×３日＋９００円×３日）. [001] (３) アウトリーチ型 利用料.
pub fn quote(table: &FeeTable, req: QuoteRequest) -> Result<Quote, QuoteError> {
    let max_days = table.max_days.unwrap_or(super::application::MAX_REQUESTED_DAYS);
    if req.days == 0 || req.days > max_days {
        return Err(QuoteError::DaysOutOfRange { days: req.days, max: max_days });
    }
    if req.babies == 0 || req.babies > MAX_BABIES {
        return Err(QuoteError::BabiesOutOfRange { babies: req.babies, max: MAX_BABIES });
    }
    if req.siblings > MAX_SIBLINGS {
        return Err(QuoteError::TooManySiblings { siblings: req.siblings, max: MAX_SIBLINGS });
    }
    let fees = table.bracket(req.bracket);
    let extra_babies = req.babies.saturating_sub(1);
    let extra_baby_days = extra_babies.checked_mul(req.days).ok_or(QuoteError::AmountTooLarge)?;
    let lines = match req.service {
        ServiceType::ShortStay | ServiceType::DayCare => {
            let daily = if req.service == ServiceType::ShortStay { fees.short_stay } else { fees.day_care };
            [
                line(FeeComponent::MotherAndBaby, daily.mother_and_baby_yen, req.days)?,
                line(
                    FeeComponent::Sibling,
                    daily.sibling_yen,
                    req.siblings.checked_mul(req.days).ok_or(QuoteError::AmountTooLarge)?,
                )?,
                line(FeeComponent::ExtraBaby, daily.extra_baby_yen, extra_baby_days)?,
            ]
        }
        ServiceType::Outreach => {
            // [001] (３): the outreach fee has no sibling row; the visit is at home.
            if req.siblings > 0 {
                return Err(QuoteError::SiblingsNotOffered { service: req.service });
            }
            // [001] (３) 減免あり without an amount: the city confirms it.
            let Some(visit) = fees.outreach else {
                return Ok(Quote { total_yen: 0, lines: Vec::new(), amount_to_be_confirmed: true });
            };
            [
                line(FeeComponent::OutreachVisit, visit.visit_yen, req.days)?,
                None,
                line(FeeComponent::OutreachExtraBaby, visit.extra_baby_yen, extra_baby_days)?,
            ]
        }
    };
    let lines: Vec<FeeLine> = lines.into_iter().flatten().collect();
    let total_yen =
        lines.iter().try_fold(0u32, |acc, l| acc.checked_add(l.amount_yen)).ok_or(QuoteError::AmountTooLarge)?;
    Ok(Quote { total_yen, lines, amount_to_be_confirmed: false })
}

/// Does the city pay the family's transport? Yes for non-taxed and
/// public-assistance households, subject to conditions the seed does not
/// list ("要件あり"), which the reviewing nurse checks.
///
/// Seed: [001] 利用料②: ※非課税世帯（均等割のみ課税世帯含む）・生活保護受給世帯については、
/// 送迎費用を区が負担している（要件あり）。
pub fn city_pays_transport(bracket: FeeBracket) -> bool {
    matches!(bracket, FeeBracket::NonTaxed | FeeBracket::PublicAssistance)
}

#[cfg(test)]
// Tests compute expected values with plain arithmetic on small numbers.
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use FeeBracket::*;
    use ServiceType::*;

    fn req(bracket: FeeBracket, service: ServiceType, days: u32, babies: u32, siblings: u32) -> QuoteRequest {
        QuoteRequest { bracket, service, days, babies, siblings }
    }

    fn total(r: QuoteRequest) -> u32 {
        quote(&FeeTable::setagaya(), r).unwrap().total_yen
    }

    #[test]
    fn the_four_published_examples() {
        // 課税世帯・母子・６泊７日：３１，５００円（４，５００円×７日）
        let q = quote(&FeeTable::setagaya(), req(Taxed, ShortStay, 7, 1, 0)).unwrap();
        assert_eq!(q.total_yen, 31_500);
        assert_eq!(
            q.lines,
            vec![FeeLine { component: FeeComponent::MotherAndBaby, unit_yen: 4_500, quantity: 7, amount_yen: 31_500 }]
        );
        // 非課税世帯・母子・６泊７日：１０，５００円（１，５００円×７日）
        assert_eq!(total(req(NonTaxed, ShortStay, 7, 1, 0)), 10_500);
        // 課税世帯・母子・双子・２泊３日：１５，０００円（４，５００円×３日＋５００円×３日）
        let q = quote(&FeeTable::setagaya(), req(Taxed, ShortStay, 3, 2, 0)).unwrap();
        assert_eq!(q.total_yen, 15_000);
        assert_eq!(q.line(FeeComponent::MotherAndBaby).unwrap().amount_yen, 13_500);
        assert_eq!(
            q.line(FeeComponent::ExtraBaby),
            Some(&FeeLine { component: FeeComponent::ExtraBaby, unit_yen: 500, quantity: 3, amount_yen: 1_500 })
        );
        // 非課税世帯・母子・きょうだい・２泊３日：７，２００円（１，５００円×３日＋９００円×３日）
        let q = quote(&FeeTable::setagaya(), req(NonTaxed, ShortStay, 3, 1, 1)).unwrap();
        assert_eq!(q.total_yen, 7_200);
        assert_eq!(
            q.line(FeeComponent::Sibling),
            Some(&FeeLine { component: FeeComponent::Sibling, unit_yen: 900, quantity: 3, amount_yen: 2_700 })
        );
    }

    #[test]
    fn every_published_row() {
        // (bracket, service, mother & baby, sibling, extra baby) per day.
        for (b, s, mb, sib, extra) in [
            (Taxed, ShortStay, 4_500, 1_700, 500),
            (Taxed, DayCare, 3_000, 1_000, 250),
            (NonTaxed, ShortStay, 1_500, 900, 250),
            (NonTaxed, DayCare, 1_000, 600, 120),
            (PublicAssistance, ShortStay, 0, 0, 0),
            (PublicAssistance, DayCare, 0, 0, 0),
        ] {
            assert_eq!(total(req(b, s, 1, 1, 0)), mb, "{b:?} {s:?}");
            assert_eq!(total(req(b, s, 1, 1, 1)), mb + sib, "{b:?} {s:?}");
            assert_eq!(total(req(b, s, 1, 2, 0)), mb + extra, "{b:?} {s:?}");
            assert_eq!(total(req(b, s, 1, 3, 1)), mb + sib + 2 * extra, "{b:?} {s:?}");
        }
    }

    #[test]
    fn outreach() {
        assert_eq!(total(req(Taxed, Outreach, 1, 1, 0)), 2_000);
        let q = quote(&FeeTable::setagaya(), req(Taxed, Outreach, 2, 3, 0)).unwrap();
        // 2 visits × 2,000 + 2 extra babies × 2 visits × 200
        assert_eq!(q.total_yen, 4_800);
        assert_eq!(q.lines.len(), 2);
        assert_eq!(q.line(FeeComponent::OutreachExtraBaby).unwrap().quantity, 4);
        // Reduction not set: not a refusal; the city confirms the amount.
        for b in [NonTaxed, PublicAssistance] {
            let q = quote(&FeeTable::setagaya(), req(b, Outreach, 1, 2, 0)).unwrap();
            assert_eq!(q, Quote { total_yen: 0, lines: vec![], amount_to_be_confirmed: true });
            assert_eq!(serde_json::to_value(&q).unwrap()["amount_to_be_confirmed"], true);
            // The counts are still checked.
            assert_eq!(
                quote(&FeeTable::setagaya(), req(b, Outreach, 1, 1, 1)).unwrap_err().code(),
                "siblings_not_offered"
            );
        }
        assert!(!quote(&FeeTable::setagaya(), req(Taxed, Outreach, 1, 1, 0)).unwrap().amount_to_be_confirmed);
        // Once a municipality configures the reduction, it is used.
        let t = FeeTable::setagaya().with_outreach(NonTaxed, VisitFees { visit_yen: 700, extra_baby_yen: 70 });
        assert_eq!(quote(&t, req(NonTaxed, Outreach, 1, 2, 0)).unwrap().total_yen, 770);
        let e = quote(&FeeTable::setagaya(), req(Taxed, Outreach, 1, 1, 1)).unwrap_err();
        assert_eq!(e.code(), "siblings_not_offered");
    }

    #[test]
    fn impossible_requests_have_stable_codes() {
        let t = FeeTable::setagaya();
        let code = |r| quote(&t, r).unwrap_err().code();
        assert_eq!(code(req(Taxed, ShortStay, 0, 1, 0)), "days_out_of_range");
        // [001] sets no maximum stay: 8 days price; a municipality may set one.
        assert_eq!(total(req(Taxed, ShortStay, 8, 1, 0)), 36_000);
        assert_eq!(code(req(Taxed, ShortStay, 367, 1, 0)), "days_out_of_range");
        let capped = FeeTable { max_days: Some(7), ..t };
        assert_eq!(code_of(&capped, req(Taxed, ShortStay, 8, 1, 0)), "days_out_of_range");
        assert!(quote(&capped, req(Taxed, ShortStay, 7, 1, 0)).is_ok());
        assert_eq!(code(req(Taxed, ShortStay, 1, 0, 0)), "babies_out_of_range");
        assert_eq!(code(req(Taxed, ShortStay, 1, 6, 0)), "babies_out_of_range");
        assert!(quote(&t, req(Taxed, ShortStay, 1, 5, 0)).is_ok());
        assert_eq!(code(req(Taxed, DayCare, 1, 1, 2)), "too_many_siblings");
        assert!(quote(&t, req(Taxed, DayCare, 1, 1, 1)).is_ok());
        let big = FeeTable { max_days: Some(u32::MAX), ..t };
        let mut huge = big;
        huge.taxed.short_stay.mother_and_baby_yen = u32::MAX;
        assert_eq!(code_of(&huge, req(Taxed, ShortStay, 2, 1, 0)), "amount_too_large");
    }

    fn code_of(t: &FeeTable, r: QuoteRequest) -> &'static str {
        quote(t, r).unwrap_err().code()
    }

    #[test]
    fn transport() {
        assert!(!city_pays_transport(Taxed));
        assert!(city_pays_transport(NonTaxed));
        assert!(city_pays_transport(PublicAssistance));
    }

    #[test]
    fn requests_and_quotes_in_json() {
        let r: QuoteRequest =
            serde_json::from_str(r#"{"bracket":"taxed","service":"short_stay","days":3,"babies":2,"siblings":0}"#)
                .unwrap();
        assert_eq!(r, req(Taxed, ShortStay, 3, 2, 0));
        assert!(serde_json::from_str::<QuoteRequest>(
            r#"{"bracket":"rich","service":"short_stay","days":3,"babies":2,"siblings":0}"#
        )
        .is_err());
        assert!(serde_json::from_str::<QuoteRequest>(
            r#"{"bracket":"taxed","service":"short_stay","days":-1,"babies":2,"siblings":0}"#
        )
        .is_err());
        let q = quote(&FeeTable::setagaya(), r).unwrap();
        assert_eq!(
            serde_json::to_string(&q).unwrap(),
            r#"{"total_yen":15000,"lines":[{"component":"mother_and_baby","unit_yen":4500,"quantity":3,"amount_yen":13500},{"component":"extra_baby","unit_yen":500,"quantity":3,"amount_yen":1500}]}"#
        );
        let t: FeeTable = serde_json::from_str(&serde_json::to_string(&FeeTable::setagaya()).unwrap()).unwrap();
        assert_eq!(t, FeeTable::setagaya());
    }

    fn any_bracket() -> impl Strategy<Value = FeeBracket> {
        prop_oneof![Just(Taxed), Just(NonTaxed), Just(PublicAssistance)]
    }

    fn any_service() -> impl Strategy<Value = ServiceType> {
        prop_oneof![Just(ShortStay), Just(DayCare), Just(Outreach)]
    }

    fn configured() -> FeeTable {
        FeeTable::setagaya()
            .with_outreach(NonTaxed, VisitFees { visit_yen: 500, extra_baby_yen: 50 })
            .with_outreach(PublicAssistance, VisitFees { visit_yen: 0, extra_baby_yen: 0 })
    }

    proptest! {
        /// Totals are the sum of their lines, no line is negative or empty,
        /// and every line is unit × quantity.
        #[test]
        fn total_is_the_sum_of_lines(b in any_bracket(), s in any_service(), days in 1u32..=7, babies in 1u32..=5, siblings in 0u32..=1) {
            let siblings = if s == Outreach { 0 } else { siblings };
            let q = quote(&configured(), req(b, s, days, babies, siblings)).unwrap();
            prop_assert_eq!(q.total_yen, q.lines.iter().map(|l| l.amount_yen).sum::<u32>());
            for l in &q.lines {
                prop_assert!(l.quantity > 0);
                prop_assert_eq!(l.amount_yen, l.unit_yen * l.quantity);
                prop_assert!(i64::from(l.amount_yen) >= 0);
            }
        }

        /// quote(d1 + d2) = quote(d1) + quote(d2), line by line.
        #[test]
        fn additive_over_days(b in any_bracket(), s in any_service(), d1 in 1u32..=6, d2 in 1u32..=6, babies in 1u32..=5, siblings in 0u32..=1) {
            prop_assume!(d1 + d2 <= 7);
            let siblings = if s == Outreach { 0 } else { siblings };
            let t = configured();
            let a = quote(&t, req(b, s, d1, babies, siblings)).unwrap();
            let c = quote(&t, req(b, s, d2, babies, siblings)).unwrap();
            let both = quote(&t, req(b, s, d1 + d2, babies, siblings)).unwrap();
            prop_assert_eq!(both.total_yen, a.total_yen + c.total_yen);
            for l in &both.lines {
                let part = |q: &Quote| q.line(l.component).map_or(0, |x| x.amount_yen);
                prop_assert_eq!(l.amount_yen, part(&a) + part(&c));
            }
        }

        /// Public assistance pays nothing for short stay and day care.
        #[test]
        fn public_assistance_is_free(s in prop_oneof![Just(ShortStay), Just(DayCare)], days in 1u32..=7, babies in 1u32..=5, siblings in 0u32..=1) {
            prop_assert_eq!(total(req(PublicAssistance, s, days, babies, siblings)), 0);
        }

        /// Never more for a poorer household: taxed ≥ non-taxed ≥ public assistance.
        #[test]
        fn brackets_are_ordered(s in prop_oneof![Just(ShortStay), Just(DayCare)], days in 1u32..=7, babies in 1u32..=5, siblings in 0u32..=1) {
            let t = total(req(Taxed, s, days, babies, siblings));
            let n = total(req(NonTaxed, s, days, babies, siblings));
            let p = total(req(PublicAssistance, s, days, babies, siblings));
            prop_assert!(t >= n && n >= p);
        }

        /// Any request either prices or fails with one of the stable codes.
        #[test]
        fn quote_is_total(b in any_bracket(), s in any_service(), days in 0u32..400, babies in 0u32..9, siblings in 0u32..4) {
            match quote(&FeeTable::setagaya(), req(b, s, days, babies, siblings)) {
                Ok(q) => prop_assert!((1..=366).contains(&days) && (1..=5).contains(&babies) && siblings <= 1 && q.total_yen <= days * (4_500 + 1_700 + 4 * 500)),
                Err(e) => prop_assert!(["days_out_of_range", "babies_out_of_range", "too_many_siblings", "siblings_not_offered"].contains(&e.code())),
            }
        }

        /// Outreach for non-taxed and public-assistance households is never
        /// refused for want of an amount: with the reduction unset the
        /// amount is to be confirmed, with it set the quote is priced.
        #[test]
        fn reductions_never_refuse(b in prop_oneof![Just(NonTaxed), Just(PublicAssistance)], visits in 1u32..=10, babies in 1u32..=5, set in any::<bool>()) {
            let t = if set { configured() } else { FeeTable::setagaya() };
            let q = quote(&t, req(b, Outreach, visits, babies, 0)).unwrap();
            prop_assert_eq!(q.amount_to_be_confirmed, !set);
            if !set {
                prop_assert!(q.lines.is_empty() && q.total_yen == 0);
            } else {
                prop_assert!(!q.lines.is_empty());
            }
        }
    }
}
