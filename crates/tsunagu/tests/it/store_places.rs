//! Storage stories about configuration: municipalities, their areas and venues,
//! which every other story stands on.
//! Each runs on SQLite and on PostgreSQL (`on_both!`).

use crate::store_support::*;
use crate::support::Backend;
use tsunagu_domain::places::VenueKind;
use tsunagu_domain::MunicipalityId;
use tsunagu_store::{NewVenue, StoreError};

async fn story_municipalities_areas_and_venues_round_trip(backend: Backend) {
    let (s, db) = fresh(backend).await;
    let m = s.create_municipality(code("131121"), "世田谷区", "Setagaya").await.unwrap();
    let other = s.create_municipality(code("082350"), "つくば市", "Tsukuba").await.unwrap();
    assert_eq!(s.municipality(m.id).await.unwrap(), Some(m.clone()));
    assert_eq!(s.municipality_by_code(code("082350")).await.unwrap(), Some(other.clone()));
    assert_eq!(s.municipality(MunicipalityId(999)).await.unwrap(), None);
    assert_eq!(s.municipalities().await.unwrap(), vec![other.clone(), m.clone()]);
    assert!(matches!(
        s.create_municipality(code("131121"), "x", "x").await,
        Err(StoreError::Conflict("municipality_exists"))
    ));

    let a = s.create_area(m.id, "世田谷", "Setagaya").await.unwrap();
    let b = s.create_area(m.id, "北沢", "Kitazawa").await.unwrap();
    let foreign = s.create_area(other.id, "世田谷", "Same name elsewhere").await.unwrap();
    assert!(matches!(s.create_area(m.id, "世田谷", "again").await, Err(StoreError::Conflict("area_exists"))));
    assert_eq!(s.areas(m.id).await.unwrap(), vec![a.clone(), b.clone()]);
    assert_eq!(s.areas(other.id).await.unwrap(), vec![foreign.clone()]);

    let v = s
        .create_venue(&NewVenue {
            municipality_id: m.id,
            area_id: Some(a.id),
            kind: VenueKind::Hub,
            name_ja: "ひろば".into(),
            name_en: "Hub".into(),
        })
        .await
        .unwrap();
    assert_eq!(v.area_id, Some(a.id));
    assert_eq!(v.kind, VenueKind::Hub);
    let w = s
        .create_venue(&NewVenue {
            municipality_id: m.id,
            area_id: None,
            kind: VenueKind::HealthCentre,
            name_ja: "保健センター".into(),
            name_en: "Health centre".into(),
        })
        .await
        .unwrap();
    assert!(matches!(
        s.create_venue(&NewVenue {
            municipality_id: m.id,
            area_id: Some(foreign.id),
            kind: VenueKind::Hub,
            name_ja: "x".into(),
            name_en: "x".into(),
        })
        .await,
        Err(StoreError::InvalidReference("area_id"))
    ));
    assert_eq!(s.venues(m.id).await.unwrap(), vec![v, w]);
    assert_eq!(s.venues(other.id).await.unwrap(), vec![]);
    finish(s, db).await;
}

on_both!(
    municipalities_areas_and_venues_round_trip => story_municipalities_areas_and_venues_round_trip,
);
