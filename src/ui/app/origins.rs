//! Who is waiting for each publish outcome. The publish panel, a clear-retained job and a
//! replay all publish on the same engine; each [`Token`] is registered with its origin when
//! it is allocated and routed back by a map lookup, so no origin can ever take another's
//! outcome (the old scheme split the `u64` space into ranges).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::engine::{ConnectionId, Token};

/// What asked for a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// The publish panel (and request/response).
    Panel,
    /// The clear-retained job; the index of its topic in the job's list.
    Clear(usize),
    /// The replay under way (its own thread allocates tokens).
    Replay,
}

/// The map from token to origin, shared with the replay thread.
#[derive(Debug, Clone, Default)]
pub(super) struct Origins(Arc<Mutex<Inner>>);

#[derive(Debug, Default)]
struct Inner {
    /// The last token given out; tokens are never reused within a run.
    last: u64,
    /// In flight: the connection is kept for diagnostics in the log.
    waiting: HashMap<Token, (ConnectionId, Origin)>,
}

impl Origins {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The map stays consistent even if a holder panicked: each operation is one insert or
        // remove.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new token for a publish on `tab`, remembered as `origin`'s.
    pub(super) fn register(&self, tab: ConnectionId, origin: Origin) -> Token {
        let mut inner = self.lock();
        inner.last += 1;
        let token = Token(inner.last);
        inner.waiting.insert(token, (tab, origin));
        token
    }

    /// The origin of an outcome, forgotten once taken. The engine reports exactly one outcome
    /// per publish (a connection that closes fails what it still holds), so the map holds
    /// only what is in flight.
    pub(super) fn take(&self, token: Token) -> Option<Origin> {
        self.lock().waiting.remove(&token).map(|(_, origin)| origin)
    }

    /// Tokens waiting for an outcome (for tests and the bound).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_goes_to_its_origin_once() {
        let origins = Origins::default();
        let panel = origins.register(ConnectionId(1), Origin::Panel);
        let replay = origins.clone();
        let from_thread = std::thread::spawn(move || replay.register(ConnectionId(1), Origin::Replay))
            .join()
            .unwrap();
        let clear = origins.register(ConnectionId(2), Origin::Clear(7));
        assert_ne!(panel, from_thread);
        assert_eq!(origins.take(from_thread), Some(Origin::Replay));
        assert_eq!(origins.take(clear), Some(Origin::Clear(7)));
        assert_eq!(origins.take(clear), None, "an outcome is routed once");
        assert_eq!(origins.take(Token(999)), None, "unknown tokens go nowhere");
        assert_eq!(origins.take(panel), Some(Origin::Panel));
        assert_eq!(origins.len(), 0, "nothing is kept after its outcome");
    }
}
