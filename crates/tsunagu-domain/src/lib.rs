//! The rules of tsunagu, as plain data and pure functions.
//!
//! Architecture invariant: this crate does no I/O. It knows nothing of HTTP,
//! SQL or the async runtime; time comes in through [`clock::Clock`].

pub mod admins;
pub mod audit;
pub mod chat;
pub mod classes;
pub mod clock;
#[deny(clippy::arithmetic_side_effects)]
pub mod dates;
#[deny(clippy::arithmetic_side_effects)]
pub mod fiscal;
#[deny(clippy::arithmetic_side_effects)]
pub mod holidays;
pub mod ids;
pub mod kana;
pub mod keys;
pub mod municipality;
pub mod notes;
pub mod password;
pub mod places;
pub mod policy;
pub mod postpartum;
pub mod push;
#[deny(clippy::arithmetic_side_effects)]
pub mod records;
pub mod referrals;
pub mod reminders;
pub mod reports;
pub mod roles;
pub mod screening;
pub mod timeline;
pub mod validation;

pub use ids::*;
