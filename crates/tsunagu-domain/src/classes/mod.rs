//! Classes and programmes [000][002][004]: what a municipality runs
//! (`programme`), who may book a session and why not (`eligibility`), and
//! a year's sessions generated from a pattern (`schedule`). No I/O: the
//! stores keep programmes, sessions and bookings; time is a parameter.

pub mod eligibility;
pub mod local;
pub mod programme;
pub mod schedule;

pub use eligibility::{decide, Eligible, Ineligible, PriorBooking, Refusal};
pub use programme::{CapacityUnit, Measures, OncePer, ProgrammeConfig, ProgrammeKind, ProgrammeRules, Runner, Stage};
pub use schedule::{monthly, spread_over_venues, Participation, PlannedSession, SessionStatus};

#[cfg(test)]
mod local_tests;
#[cfg(test)]
mod tests;
