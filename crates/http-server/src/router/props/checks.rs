//! The end of a case: every session run to rest, then what the client received and what the
//! router and the log still hold, checked against the model.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use proptest::prelude::*;

use super::model::{Req, World};
use super::{Check, REQUESTS, Target};

impl World {
    /// Runs session `s` to rest: every posted request answered and its POST decided, the GET
    /// stream opened, and every stream the client can name resumed until nothing is missing.
    pub(super) fn settle(&mut self, s: usize) -> Check {
        for k in 0..REQUESTS {
            self.respond(s, k)?;
            self.decide(s, k)?;
        }
        self.open_get(s)?;
        // Each round reads what arrived and resumes what ended early; a resume's replay needs
        // no queue, so a few rounds suffice.
        for _ in 0..8 {
            let targets: Vec<Target> = self.sessions[s].client.conns.keys().copied().collect();
            for t in targets {
                self.read(s, t)?;
            }
            let session = &self.sessions[s];
            let unfinished: Vec<Target> = (0..REQUESTS)
                .filter(|k| session.reqs[*k] != Req::Idle)
                .filter(|k| !session.client.complete.contains(k))
                .map(Target::Request)
                .chain(std::iter::once(Target::Get))
                .filter(|t| !session.client.conns.contains_key(t))
                .filter(|t| session.client.last.contains_key(t))
                .collect();
            if unfinished.is_empty() {
                break;
            }
            for t in unfinished {
                self.resume(s, t)?;
            }
        }
        Ok(())
    }

    /// What the client received of session `s`, against the model.
    pub(super) fn check_delivery(&self, s: usize) -> Check {
        let session = &self.sessions[s];
        for k in (0..REQUESTS).filter(|k| session.reqs[*k] != Req::Idle) {
            prop_assert!(
                session.client.complete.contains(&k)
                    || session.orphaned.contains(&Target::Request(k)),
                "request {} of session {} never got its response",
                k,
                s
            );
        }
        for (m, msg) in self.msgs.iter().enumerate() {
            if msg.session == s && !msg.may_be_lost {
                prop_assert!(msg.got.is_some(), "message {} ({:?}) lost", m, msg);
            }
        }
        // Each stream carries its messages in the order they were sent.
        for seen in session.client.seen.values() {
            let mut seen = seen.clone();
            seen.sort();
            prop_assert!(
                seen.windows(2).all(|w| w[0].1 < w[1].1),
                "out of order: {:?}",
                seen
            );
        }
        Ok(())
    }

    /// Once every connection of session `s` is gone: no request left in the router, no stream
    /// but the GET stream, nothing buffered, and the log holding only what a client that can no
    /// longer name its stream left behind (it goes with the TTL or the session), or the GET
    /// stream's events (they go with the session).
    pub(super) fn check_idle(&mut self, s: usize) -> Check {
        let session = &mut self.sessions[s];
        session.client.conns.clear();
        let router = &session.router;
        prop_assert_eq!(router.connections.load(Ordering::Relaxed), 0);
        prop_assert_eq!(session.elsewhere.connections.load(Ordering::Relaxed), 0);
        {
            let st = router.lock();
            prop_assert!(
                st.requests.is_empty(),
                "requests left: {:?}",
                st.requests.keys()
            );
            prop_assert_eq!(st.reserved.len(), 0, "reserved: {:?}", st.reserved);
            prop_assert_eq!(st.streams.len(), usize::from(session.get_exists));
            prop_assert!(st.get_buffer.is_empty());
        }
        // A stream an event id of which was sent, and whose client did not read it to its end,
        // may still be resumed: its events stay until the TTL or the session's end. One whose
        // POST went away before choosing was never named to the client: nothing of it stays.
        let mut allowed: HashSet<u64> = session.client.get_sid.into_iter().collect();
        for k in (0..REQUESTS).filter(|k| !session.client.complete.contains(k)) {
            if session.answered_sse[k] {
                allowed.extend(session.reqs[k].sid());
            }
        }
        if !self.setup.priming {
            // Without priming a GET stream's log may start before any event reached the client.
            allowed.extend(router.lock().get_stream);
        }
        for (tag, sid, _) in self.log.held(&session.id) {
            prop_assert_eq!(&*tag, &**router.tag());
            prop_assert!(
                allowed.contains(&sid),
                "stream {} of session {} left in the log",
                sid,
                s
            );
        }
        Ok(())
    }
}
