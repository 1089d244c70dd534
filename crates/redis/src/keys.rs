//! The names of the backend's keys. A session's keys share the hash tag `{sid}`, so they live
//! in one Cluster slot and one script may touch them all.

/// Builds key names under one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Keys {
            prefix: prefix.to_owned(),
        }
    }

    /// `{p}{sid}`: the session's record (a hash).
    pub(crate) fn session(&self, sid: &str) -> String {
        format!("{}{{{sid}}}", self.prefix)
    }

    /// `{p}{sid}:s:{tag}.{n}`: the events of stream `n` of router `tag` (a stream).
    pub(crate) fn stream(&self, sid: &str, tag: &str, n: u64) -> String {
        format!("{}{{{sid}}}:s:{tag}.{n}", self.prefix)
    }

    /// `{p}{sid}:get`: messages for the session's GET stream while no instance holds it (a
    /// stream, RB-20).
    pub(crate) fn get_log(&self, sid: &str) -> String {
        format!("{}{{{sid}}}:get", self.prefix)
    }

    /// `{p}{sid}:logs`: the names of the session's stream logs (a set), so ending the session
    /// finds them without a scan.
    pub(crate) fn logs(&self, sid: &str) -> String {
        format!("{}{{{sid}}}:logs", self.prefix)
    }

    /// `{p}inst:{iid}`: the instance's heartbeat (a string with a short expiry).
    pub(crate) fn instance(&self, iid: &str) -> String {
        format!("{}inst:{iid}", self.prefix)
    }

    /// `{p}instances`: the instances alive, scored by their last heartbeat (a sorted set).
    pub(crate) fn instances(&self) -> String {
        format!("{}instances", self.prefix)
    }

    /// `{p}fleet`: the fleet's marker, whose absence means Redis lost its data (a string
    /// without expiry, RB-32).
    pub(crate) fn fleet_marker(&self) -> String {
        format!("{}fleet", self.prefix)
    }

    /// `{p}task:{id}`: a task of the tasks extension (a string: the record's JSON).
    pub(crate) fn task(&self, id: &str) -> String {
        format!("{}task:{id}", self.prefix)
    }

    /// `{p}state:{nonce}`: a 2026-07-28 `requestState` that was used (a string expiring with
    /// the state, RB-26).
    pub(crate) fn used_state(&self, nonce: &str) -> String {
        format!("{}state:{nonce}", self.prefix)
    }

    /// `{p}inbox:{iid}`: the messages for one instance (a stream).
    pub(crate) fn inbox(&self, iid: &str) -> String {
        format!("{}inbox:{iid}", self.prefix)
    }

    /// `{p}notices`: the notifications for every session or a resource's subscribers (a
    /// stream), which each session's GET stream takes exactly once (RB-36).
    pub(crate) fn notices(&self) -> String {
        format!("{}notices", self.prefix)
    }

    /// `{p}bcast`: the messages for every instance (a stream).
    pub(crate) fn broadcast(&self) -> String {
        format!("{}bcast", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sessions_keys_share_its_hash_tag() {
        let keys = Keys::new("mcp:");
        assert_eq!(keys.session("abc"), "mcp:{abc}");
        assert_eq!(keys.stream("abc", "t1", 3), "mcp:{abc}:s:t1.3");
        assert_eq!(keys.logs("abc"), "mcp:{abc}:logs");
        assert_eq!(keys.get_log("abc"), "mcp:{abc}:get");
        assert_eq!(keys.inbox("i1"), "mcp:inbox:i1");
        assert_eq!(keys.instance("i1"), "mcp:inst:i1");
        assert_eq!(keys.broadcast(), "mcp:bcast");
        assert_eq!(keys.notices(), "mcp:notices");
    }
}
