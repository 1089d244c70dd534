//! The server capabilities the typed calls need (C-3), read from the typed capabilities: the
//! check runs before every call, so it must not re-encode them.

use mcp_http_proto::ServerCapabilities;

/// A server capability a typed call needs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Needs {
    Tools,
    Resources,
    ResourceSubscriptions,
    Prompts,
    Completions,
    Logging,
}

impl Needs {
    /// Its name in errors: the capability's path.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Needs::Tools => "tools",
            Needs::Resources => "resources",
            Needs::ResourceSubscriptions => "resources.subscribe",
            Needs::Prompts => "prompts",
            Needs::Completions => "completions",
            Needs::Logging => "logging",
        }
    }

    /// Whether `caps` declares it: present, and for `resources.subscribe`, true.
    pub(crate) fn declared_in(self, caps: &ServerCapabilities) -> bool {
        match self {
            Needs::Tools => caps.tools.is_some(),
            Needs::Resources => caps.resources.is_some(),
            Needs::ResourceSubscriptions => caps
                .resources
                .as_ref()
                .is_some_and(|r| r.subscribe == Some(true)),
            Needs::Prompts => caps.prompts.is_some(),
            Needs::Completions => caps.completions.is_some(),
            Needs::Logging => caps.logging.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_server_declared() {
        let caps: ServerCapabilities = serde_json::from_value(serde_json::json!({
            "tools": {}, "resources": {"subscribe": false}, "logging": {}
        }))
        .unwrap();
        assert!(Needs::Tools.declared_in(&caps));
        assert!(Needs::Resources.declared_in(&caps));
        assert!(!Needs::ResourceSubscriptions.declared_in(&caps));
        assert!(!Needs::Prompts.declared_in(&caps));
        assert!(!Needs::Completions.declared_in(&caps));
        assert!(Needs::Logging.declared_in(&caps));
        let subscribable: ServerCapabilities =
            serde_json::from_value(serde_json::json!({"resources": {"subscribe": true}})).unwrap();
        assert!(Needs::ResourceSubscriptions.declared_in(&subscribable));
    }
}
