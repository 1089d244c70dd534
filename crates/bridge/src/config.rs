//! Named servers from a file in the usual `mcpServers` format (BR-10), each served at
//! `/servers/NAME/mcp`:
//!
//! ```json
//! { "mcpServers": { "files": { "command": "npx", "args": ["server-files", "/tmp"],
//!                              "env": { "DEBUG": "1" }, "cwd": "/tmp" } } }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::child::ChildSpec;

/// One server of the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[non_exhaustive]
pub struct ServerEntry {
    /// The program.
    pub command: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Variables set for it.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Its working directory.
    #[serde(default)]
    pub cwd: Option<PathBuf>,
}

impl ServerEntry {
    /// The child this entry starts.
    pub fn spec(&self) -> ChildSpec {
        let mut spec = ChildSpec::new(self.command.clone(), self.args.clone());
        for (k, v) in &self.env {
            spec = spec.env(k.clone(), v.clone());
        }
        if let Some(cwd) = &self.cwd {
            spec = spec.cwd(cwd.clone());
        }
        spec
    }
}

/// A `mcpServers` file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[non_exhaustive]
pub struct ServersFile {
    /// The servers by name.
    #[serde(rename = "mcpServers")]
    pub servers: BTreeMap<String, ServerEntry>,
}

/// Why a servers file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// It could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not a valid `mcpServers` file.
    #[error("{path} is not a valid mcpServers file: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        message: String,
    },
}

impl ServersFile {
    /// Reads and checks a file: at least one server, names usable in a URL path.
    pub fn load(path: &Path) -> Result<ServersFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses and checks the text of a file.
    pub fn parse(text: &str) -> Result<ServersFile, String> {
        let file: ServersFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if file.servers.is_empty() {
            return Err("`mcpServers` names no server".into());
        }
        if let Some(bad) = file.servers.keys().find(|name| {
            name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        }) {
            return Err(format!(
                "server name {bad:?} must be letters, digits, `-`, `_` or `.` (it is part of the URL)"
            ));
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_usual_format_and_refuses_bad_names() {
        let file = ServersFile::parse(
            r#"{"mcpServers":{"a":{"command":"x","args":["1"],"env":{"K":"V"},"cwd":"/tmp"},"b":{"command":"y"}}}"#,
        )
        .expect("valid");
        let spec = file.servers["a"].spec();
        assert_eq!(spec.args, ["1"]);
        assert_eq!(spec.env, [("K".to_owned(), "V".to_owned())]);
        assert_eq!(file.servers["b"].args.len(), 0);
        assert!(ServersFile::parse(r#"{"mcpServers":{"a/b":{"command":"x"}}}"#).is_err());
        assert!(ServersFile::parse(r#"{"mcpServers":{}}"#).is_err());
        assert!(ServersFile::parse(r#"{"servers":{}}"#).is_err());
    }
}
