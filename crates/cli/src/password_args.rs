//! `bridge URL --username U [--digest]`: HTTP Basic or Digest authentication to the remote with
//! a user name and password (BR-39, BR-40), the password from the environment or a file so that
//! it stays out of argv.

use std::path::PathBuf;
use std::sync::Arc;

use mcp_http_client_http::PasswordAuth;

/// The user name and password options.
#[derive(clap::Args, Debug, Default, Clone)]
#[command(next_help_heading = "Authorization (user name and password)")]
pub(crate) struct PasswordArgs {
    /// Authenticate to the remote as USER: HTTP Basic, or Digest with --digest. The password
    /// comes from MCP_HTTP_PASSWORD, --password-file or --password.
    #[arg(long, value_name = "USER")]
    username: Option<String>,
    /// The password (visible in the process list: prefer MCP_HTTP_PASSWORD or --password-file).
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "MCP_HTTP_PASSWORD",
        hide_env_values = true
    )]
    password: Option<String>,
    /// A file whose first line is the password.
    #[arg(long, value_name = "FILE", conflicts_with = "password")]
    password_file: Option<PathBuf>,
    /// Answer the remote's HTTP Digest challenge (RFC 7616: MD5 or SHA-256, qop=auth) instead
    /// of sending Basic credentials with every request.
    #[arg(long)]
    digest: bool,
}

impl PasswordArgs {
    /// The transport's authorizer, when a user name is given.
    pub(crate) fn authorizer(&self) -> Result<Option<Arc<PasswordAuth>>, String> {
        let Some(username) = &self.username else {
            if self.digest || self.password_file.is_some() {
                return Err("--digest and --password-file need --username".into());
            }
            return Ok(None);
        };
        let password = match (&self.password_file, &self.password) {
            (Some(file), _) => std::fs::read_to_string(file)
                .map_err(|e| format!("--password-file {}: cannot read it: {e}", file.display()))?
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
            (None, Some(password)) => password.clone(),
            (None, None) => {
                return Err(
                    "--username needs a password: MCP_HTTP_PASSWORD, --password-file or --password"
                        .into(),
                );
            }
        };
        Ok(Some(Arc::new(match self.digest {
            true => PasswordAuth::digest(username.clone(), password),
            false => PasswordAuth::basic(username.clone(), password),
        })))
    }
}
