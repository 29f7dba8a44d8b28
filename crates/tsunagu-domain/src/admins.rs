//! A municipality always keeps an administrator (#10): nobody — an
//! administrator acting on their own account included — disables or
//! demotes the last active administrator account, which would leave no one
//! to manage accounts, reset a second factor or read the audit log.

use crate::AccountId;

/// What is done to an account that may be an administrator's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminChange {
    /// The account is disabled.
    Disable,
    /// The account is given a role other than administrator.
    Demote,
}

/// Refused: the account is the municipality's last active administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the last active administrator account cannot be disabled or demoted")]
pub struct LastAdministrator;

impl LastAdministrator {
    /// The code pages and the API explain.
    pub const CODE: &'static str = "last_administrator";
}

/// Whether `change` may be made to `target`, given the municipality's
/// active administrator accounts as they stand (read in the change's own
/// transaction). An account that is not an active administrator leaves the
/// administrators as they are: always allowed. Both changes take the target
/// out of `active_admins`, so they are refused alike when it is the only one.
pub fn keeps_an_administrator(
    active_admins: &[AccountId],
    target: AccountId,
    change: AdminChange,
) -> Result<(), LastAdministrator> {
    let _ = change; // Disabling and demoting leave the same administrators behind.
    if !active_admins.contains(&target) {
        return Ok(());
    }
    if active_admins.iter().any(|a| *a != target) {
        Ok(())
    } else {
        Err(LastAdministrator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CHANGES: [AdminChange; 2] = [AdminChange::Disable, AdminChange::Demote];

    #[test]
    fn the_last_administrator_stays() {
        for change in CHANGES {
            // The only one, whoever acts (their own account included).
            assert_eq!(keeps_an_administrator(&[AccountId(1)], AccountId(1), change), Err(LastAdministrator));
            // Another remains.
            assert_eq!(keeps_an_administrator(&[AccountId(1), AccountId(2)], AccountId(1), change), Ok(()));
            // Not an active administrator: nothing to keep.
            assert_eq!(keeps_an_administrator(&[AccountId(1)], AccountId(3), change), Ok(()));
            // A municipality without one (a damaged database): no active
            // administrator is touched, so nothing is refused.
            assert_eq!(keeps_an_administrator(&[], AccountId(1), change), Ok(()));
            // The same account listed twice is still one account.
            assert_eq!(
                keeps_an_administrator(&[AccountId(1), AccountId(1)], AccountId(1), change),
                Err(LastAdministrator)
            );
        }
    }

    proptest! {
        /// Allowed exactly when, after the change, an active administrator is left
        /// or the target was none of them.
        #[test]
        fn allowed_iff_an_administrator_is_left(
            admins in proptest::collection::vec(1i64..6, 0..5),
            target in 1i64..6,
            demote in any::<bool>(),
        ) {
            let admins: Vec<AccountId> = admins.into_iter().map(AccountId).collect();
            let change = if demote { AdminChange::Demote } else { AdminChange::Disable };
            let target = AccountId(target);
            let left = admins.iter().filter(|a| **a != target).count();
            let was_one = admins.contains(&target);
            prop_assert_eq!(keeps_an_administrator(&admins, target, change).is_ok(), !was_one || left > 0);
        }
    }
}
