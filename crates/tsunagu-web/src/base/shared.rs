//! What a capability keeps for the life of a node beside the store: one
//! value of each type, made on first use and shared by every handler of the
//! same [`AppState`](crate::base::AppState) (so two services in one process,
//! as the tests run them, never share). A capability's own cache lives
//! here without `base` naming it.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Clone, Default)]
pub struct Shared(Arc<Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>>);

impl Shared {
    /// This node's one value of `T` (made with `T::default()` the first time).
    pub fn get<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let any = map.entry(TypeId::of::<T>()).or_insert_with(|| Arc::new(T::default())).clone();
        drop(map);
        // The entry of `TypeId::of::<T>()` is always a `T`.
        any.downcast::<T>().unwrap_or_else(|_| Arc::new(T::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn one_value_per_type_and_per_state() {
        let a = Shared::default();
        a.get::<AtomicU32>().fetch_add(1, Ordering::Relaxed);
        assert_eq!(a.get::<AtomicU32>().load(Ordering::Relaxed), 1);
        assert_eq!(a.clone().get::<AtomicU32>().load(Ordering::Relaxed), 1);
        assert_eq!(Shared::default().get::<AtomicU32>().load(Ordering::Relaxed), 0);
    }
}
