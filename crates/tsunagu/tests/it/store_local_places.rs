//! Local information in the store (#12) [000] 地域おでかけ情報, on both back
//! ends: add, list by area, stage, kind and venue, edit, retire; references
//! bounded by the municipality; one audit line per change, none for browsing.

use crate::store_support::*;
use crate::support::Backend;
use tsunagu_domain::classes::local::{LifeStage, LocalPlace, PlaceKind, StageSet};
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::roles::Role;
use tsunagu_domain::{AreaId, LocalPlaceId, VenueId};
use tsunagu_store::{LocalPlaceQuery, NewVenue, StoreError};

fn place(area: AreaId, kind: PlaceKind, name: &str, stages: &[LifeStage], venue: Option<VenueId>) -> LocalPlace {
    LocalPlace {
        area_id: area,
        kind,
        name_ja: name.into(),
        name_en: String::new(),
        address: "世田谷区1-1".into(),
        access: "駅から徒歩5分".into(),
        hours: "火〜日 9:00〜18:00".into(),
        offers_ja: "親子のひろば".into(),
        offers_en: String::new(),
        stages: StageSet::of(stages.iter().copied()),
        venue_id: venue,
    }
}

fn query(area: Option<AreaId>, stage: Option<LifeStage>) -> LocalPlaceQuery {
    LocalPlaceQuery { area, stage, limit: 100, ..Default::default() }
}

fn names(entries: &[tsunagu_store::LocalPlaceEntry]) -> Vec<String> {
    entries.iter().map(|e| e.place.name_ja.clone()).collect()
}

async fn story_keep_and_browse_local_places(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let (m, north, south) = town(&s, "131121").await;
    let (other, other_area, _) = town(&s, "082350").await;
    let hall = s
        .create_venue(&NewVenue {
            municipality_id: m,
            area_id: Some(north),
            kind: VenueKind::ChildrensHall,
            name_ja: "北沢児童館".into(),
            name_en: "Kitazawa hall".into(),
        })
        .await
        .unwrap()
        .id;
    let c = ctx(m, Role::Coordinator);
    let before = actions(&s, m).await.len();

    let hall_entry = s
        .create_local_place(
            &c,
            &place(
                north,
                PlaceKind::ChildrensHall,
                "北沢児童館",
                &[LifeStage::Pregnant, LifeStage::Newborn],
                Some(hall),
            ),
        )
        .await
        .unwrap();
    let park = s
        .create_local_place(&c, &place(north, PlaceKind::OutingSpot, "羽根木公園", &[LifeStage::SixMonths], None))
        .await
        .unwrap();
    s.create_local_place(&c, &place(south, PlaceKind::Service, "一時預かり", &[LifeStage::SixMonths], None))
        .await
        .unwrap();

    // By area, by stage, by both, by venue, by kind.
    assert_eq!(names(&s.local_places(m, &query(Some(north), None)).await.unwrap()), ["北沢児童館", "羽根木公園"]);
    assert_eq!(
        names(&s.local_places(m, &query(None, Some(LifeStage::SixMonths))).await.unwrap()),
        ["羽根木公園", "一時預かり"]
    );
    assert_eq!(names(&s.local_places(m, &query(Some(north), Some(LifeStage::Newborn))).await.unwrap()), ["北沢児童館"]);
    assert!(s.local_places(m, &query(Some(south), Some(LifeStage::Pregnant))).await.unwrap().is_empty());
    let at_hall = LocalPlaceQuery { venues: Some(vec![hall]), limit: 10, ..Default::default() };
    assert_eq!(s.local_places(m, &at_hall).await.unwrap()[0].id, hall_entry.id);
    let spots = LocalPlaceQuery { kind: Some(PlaceKind::OutingSpot), limit: 10, ..Default::default() };
    assert_eq!(names(&s.local_places(m, &spots).await.unwrap()), ["羽根木公園"]);

    // Read back as written.
    let got = s.local_place(m, hall_entry.id).await.unwrap().unwrap();
    assert_eq!(got, hall_entry);
    assert!(!got.retired);

    // Edit: the fields are replaced.
    let mut edited = park.place.clone();
    edited.hours = "常時開放".into();
    edited.stages = StageSet::of([LifeStage::SixMonths, LifeStage::OneYear]);
    s.update_local_place(&c, park.id, &edited).await.unwrap();
    assert_eq!(s.local_place(m, park.id).await.unwrap().unwrap().place, edited);

    // Retire: families no longer see it; the keeper's list still does.
    s.retire_local_place(&c, park.id, true).await.unwrap();
    assert_eq!(names(&s.local_places(m, &query(Some(north), None)).await.unwrap()), ["北沢児童館"]);
    let keeper = LocalPlaceQuery { include_retired: true, ..query(Some(north), None) };
    assert_eq!(s.local_places(m, &keeper).await.unwrap().len(), 2);
    assert!(s.local_place(m, park.id).await.unwrap().unwrap().retired);

    // One line per change (3 adds, 1 edit, 1 retire); browsing wrote none.
    let keep_lines = lines_of(&s, m, "local.keep").await;
    assert_eq!(keep_lines.len(), 5);
    assert!(keep_lines.iter().all(|(family, _)| family.is_none()));
    assert_eq!(actions(&s, m).await.len(), before + 5);
    assert_eq!(verify_chain(&s, m).await.unwrap(), u64::try_from(before + 5).unwrap());

    // Another municipality's area or venue is refused, nothing stored.
    let foreign_area = place(other_area, PlaceKind::Hub, "よその拠点", &[LifeStage::OneYear], None);
    assert!(matches!(s.create_local_place(&c, &foreign_area).await, Err(StoreError::InvalidReference("area_id"))));
    let foreign_venue = place(north, PlaceKind::Hub, "拠点", &[LifeStage::OneYear], Some(VenueId(hall.0 + 999)));
    assert!(matches!(s.create_local_place(&c, &foreign_venue).await, Err(StoreError::InvalidReference("venue_id"))));
    assert!(matches!(
        s.update_local_place(&c, park.id, &foreign_area).await,
        Err(StoreError::InvalidReference("area_id"))
    ));
    assert_eq!(
        s.local_places(m, &LocalPlaceQuery { include_retired: true, limit: 100, ..Default::default() })
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(lines_of(&s, m, "local.keep").await.len(), 5);

    // Another municipality sees none of it, nor can change it.
    assert!(s.local_places(other, &query(None, None)).await.unwrap().is_empty());
    assert_eq!(s.local_place(other, hall_entry.id).await.unwrap(), None);
    let oc = ctx(other, Role::Coordinator);
    assert!(matches!(
        s.update_local_place(&oc, hall_entry.id, &hall_entry.place).await,
        Err(StoreError::InvalidReference(_) | StoreError::NotFound)
    ));
    assert!(matches!(s.retire_local_place(&oc, hall_entry.id, true).await, Err(StoreError::NotFound)));
    assert!(matches!(
        s.retire_local_place(&c, LocalPlaceId(hall_entry.id.0 + 999), true).await,
        Err(StoreError::NotFound)
    ));
    assert!(!s.local_place(m, hall_entry.id).await.unwrap().unwrap().retired);
    finish(s, db).await;
}

on_both! {
    keep_and_browse_local_places => story_keep_and_browse_local_places,
}
