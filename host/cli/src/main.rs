//! `patchbay`: inspect plugins, list providers, call any operation, manage
//! stored connections and the vault, scaffold new plugins (the contract is
//! carried in the binary: `patchbay wit`).
//!
//! The command line. Exit codes scripts can rely on:
//!
//! | code | meaning                                                         |
//! |------|-----------------------------------------------------------------|
//! | 0    | success                                                         |
//! | 1    | the operation failed: the plugin returned a connector error     |
//! | 2    | invalid invocation: arguments, input JSON, provider, settings   |
//! | 3    | plugin or host fault: load failure, trap, limit, deadline       |

mod c_build;
mod call;
mod compile;
mod connections;
mod contract;
mod host_options;
mod inspect;
mod new;
mod providers;
mod serve;
mod webhooks;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use patchbay::ErrorKind;
use serde_json::json;

/// A failure with the exit code it maps to.
pub(crate) struct Failure {
    code: u8,
    kind: &'static str,
    message: String,
    detail: Option<serde_json::Value>,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            kind: "invalid-input",
            message: message.into(),
            detail: None,
        }
    }

    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            kind: "failed",
            message: message.into(),
            detail: None,
        }
    }

    pub(crate) fn fault(message: impl Into<String>) -> Self {
        Self {
            code: 3,
            kind: "fault",
            message: message.into(),
            detail: None,
        }
    }

    /// The failure of a library error, by its kind (see [`exit_code`]).
    pub(crate) fn of(kind: ErrorKind, message: String) -> Self {
        let (code, kind) = exit_code(kind);
        Self {
            code,
            kind,
            message,
            detail: None,
        }
    }

    pub(crate) fn from_connections(error: patchbay::ConnectionsError) -> Self {
        match error {
            patchbay::ConnectionsError::Call(call) => Self::from_call(call),
            other => Self::of(other.kind(), other.to_string()),
        }
    }

    pub(crate) fn from_call(error: patchbay::CallError) -> Self {
        match &error {
            patchbay::CallError::Connector(e) => Self {
                detail: Some(patchbay::types::error_json(e)),
                kind: "connector",
                ..Self::of(error.kind(), error.to_string())
            },
            _ => Self::of(error.kind(), error.to_string()),
        }
    }
}

/// The exit code (and the JSON error's `kind`) of each kind of failure: the
/// one place they are decided.
fn exit_code(kind: ErrorKind) -> (u8, &'static str) {
    match kind {
        ErrorKind::Failed | ErrorKind::Unavailable => (1, "failed"),
        ErrorKind::Invalid | ErrorKind::NotFound | ErrorKind::Config => (2, "invalid-input"),
        _ => (3, "fault"),
    }
}

#[cfg(test)]
mod tests {
    use super::printable;

    /// Security review F22: text from a plugin cannot drive the terminal.
    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(printable("plain text\nnext"), "plain text\nnext");
        let hostile = "ok\u{1b}]0;owned\u{7}\u{1b}[2J";
        let shown = printable(hostile);
        assert!(!shown.contains('\u{1b}') && !shown.contains('\u{7}'), "{shown:?}");
        assert!(shown.contains("\\u{1b}"), "{shown:?}");
    }
}

#[derive(Parser)]
#[command(
    name = "patchbay",
    version,
    about = "A WebAssembly plugin host for integration connectors"
)]
struct Cli {
    /// Print errors as JSON on stderr: {"kind", "message", "error"}.
    #[arg(long, global = true)]
    json_errors: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a plugin file and show its manifest, port, capabilities and imports.
    Inspect(inspect::Args),
    /// List the providers of a plugins directory (and the files skipped).
    Providers(providers::Args),
    /// Compile every plugin of a directory into the on-disk cache.
    Compile(compile::Args),
    /// Call an operation of a provider, e.g. `shop.get-orders`, with JSON input.
    Call(Box<call::Args>),
    /// Stored connections: credentials sealed in the vault, per tenant.
    Connections(Box<connections::Args>),
    /// The vault key.
    Vault(Box<connections::VaultArgs>),
    /// Create a plugin for a family in Rust, TypeScript, Python or C that builds and passes its own test.
    New(new::Args),
    /// Write the contract (the `.wit` files this binary carries) into a directory.
    Wit(contract::Args),
    /// Build steps of a C plugin (the C SDK's build.py runs them): bindings, componentize.
    C(c_build::Args),
    /// Run the host as a multi-tenant HTTP service (API under /v1, OpenAPI at /openapi.json).
    Serve(Box<serve::Args>),
    /// The service's API keys: create (shown once), list, revoke.
    Keys(Box<serve::KeysArgs>),
    /// A connection's webhook ingress URL and its subscriptions at the provider.
    Webhooks(Box<webhooks::Args>),
}

/// Credentials from a JSON object of strings; `source` names where it came from.
pub(crate) fn credentials_json(text: &str, source: &str) -> Result<patchbay::Credentials, Failure> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).map_err(|e| {
        Failure::usage(format!(
            "the credentials in {source} are not a JSON object of strings: {e}"
        ))
    })?;
    object
        .into_iter()
        .map(|(name, value)| match value {
            serde_json::Value::String(value) => Ok((name, value)),
            _ => Err(Failure::usage(format!(
                "credential {name:?} in {source} is not a string"
            ))),
        })
        .collect()
}

/// Credentials from a file holding a JSON object of strings.
pub(crate) fn credentials_file(path: &std::path::Path) -> Result<patchbay::Credentials, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read the credentials file {}: {e}", path.display())))?;
    credentials_json(&text, &path.display().to_string())
}

/// Parses `NAME=VALUE`.
pub(crate) fn pair(text: &str, what: &str) -> Result<(String, String), Failure> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| Failure::usage(format!("{what} {text:?} is not NAME=VALUE")))
}

/// `$OVERRIDE`, else `$XDG/patchbay/FILE`, else `~/HOME_DIR/patchbay/FILE`.
pub(crate) fn user_path(override_var: &str, xdg_var: &str, home_dir: &str, file: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(override_var) {
        return PathBuf::from(path);
    }
    let base = std::env::var_os(xdg_var)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(home_dir)))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("patchbay").join(file)
}

/// Where state lives when `--database` is not given.
pub(crate) fn default_database() -> PathBuf {
    user_path("PATCHBAY_DATABASE", "XDG_DATA_HOME", ".local/share", "patchbay.db")
}

/// Where compiled plugins are cached when `--cache` is not given.
pub(crate) fn default_cache() -> PathBuf {
    user_path("PATCHBAY_CACHE", "XDG_CACHE_HOME", ".cache", "compiled")
}

/// Text a plugin, a provider or a tenant controls, made safe for a
/// terminal: control characters (escape sequences that could rewrite the
/// screen or set the window title) are shown escaped, not sent.
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| match c {
                '\n' | '\t' => c.to_string(),
                c if c.is_control() => c.escape_default().to_string(),
                c => c.to_string(),
            })
            .collect(),
    )
}

pub(crate) fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON values serialize")
    );
}

fn init_logging(default: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // PATCHBAY_LOG_FORMAT=json: one JSON object a line (with the request
    // id and tenant of the service's request spans), for log collectors.
    if std::env::var("PATCHBAY_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_current_span(true)
            .init();
        return;
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The service logs each request (the access log); commands only warnings.
    init_logging(if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Inspect(args) => inspect::run(args).await,
            Command::Providers(args) => providers::run(args).await,
            Command::Compile(args) => compile::run(args).await,
            Command::Call(args) => call::run(*args).await,
            Command::Connections(args) => connections::run(*args).await,
            Command::Vault(args) => connections::run_vault(*args).await,
            Command::New(args) => new::run(args).await,
            Command::Wit(args) => contract::run(args),
            Command::C(args) => c_build::run(args),
            Command::Serve(args) => serve::run(*args).await,
            Command::Keys(args) => serve::run_keys(*args).await,
            Command::Webhooks(args) => webhooks::run(*args).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if cli.json_errors {
                let mut report = json!({ "kind": failure.kind, "message": failure.message });
                if let Some(detail) = failure.detail {
                    report["error"] = detail;
                }
                eprintln!("{report}");
            } else {
                eprintln!("error: {}", printable(&failure.message));
            }
            ExitCode::from(failure.code)
        }
    }
}
