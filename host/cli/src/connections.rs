//! `patchbay connections add|list|show|test|enable|disable|remove|authorize|callback`
//! and `patchbay vault rotate-key`.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use patchbay::vault::VaultKey;
use patchbay::{ConnectionInfo, Credentials, Host, NewConnection, Settings};
use serde_json::{Value, json};

use super::host_options::HostOptions;
use super::{Failure, pair, print_json};

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    host: HostOptions,
    /// The tenant owning the connections.
    #[arg(long, global = true, env = "PATCHBAY_TENANT", default_value = "default")]
    tenant: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Store a connection; credentials come from a file, stdin or a hidden prompt.
    Add {
        /// The provider, `family/name`.
        provider: String,
        /// A human name (default: the provider's).
        #[arg(long)]
        name: Option<String>,
        /// An id of your choosing (default: random).
        #[arg(long)]
        id: Option<String>,
        /// A setting, NAME=VALUE (repeatable).
        #[arg(long = "setting", value_name = "NAME=VALUE")]
        settings: Vec<String>,
        /// A JSON object of credentials, {"NAME": "VALUE"}.
        #[arg(long, value_name = "FILE", conflicts_with = "credentials_stdin")]
        credentials_file: Option<PathBuf>,
        /// Read the JSON object of credentials from stdin.
        #[arg(long)]
        credentials_stdin: bool,
        /// A credential field the plugin may read (repeatable); every other
        /// one is secret, whatever the plugin declares.
        #[arg(long = "public", value_name = "FIELD")]
        public_fields: Vec<String>,
        /// A credential field the plugin may use as a key through `crypto`
        /// (a webhook signing secret; repeatable).
        #[arg(long = "signing", value_name = "FIELD")]
        signing_fields: Vec<String>,
        /// Print the stored connection as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the tenant's connections.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one connection (never a secret value) as JSON.
    Show {
        /// The connection id.
        id: String,
    },
    /// Check a connection's credentials with the provider.
    Test {
        /// The connection id.
        id: String,
    },
    /// Turn a connection on (also clears the circuit breaker's verdict).
    Enable {
        /// The connection id.
        id: String,
    },
    /// Turn a connection off; it is kept but refuses calls.
    Disable {
        /// The connection id.
        id: String,
    },
    /// Delete a connection with its tokens and kv data.
    Remove {
        /// The connection id.
        id: String,
    },
    /// Replace a connection's credentials (file, stdin or prompt).
    SetCredentials {
        /// The connection id.
        id: String,
        /// A JSON object of credentials.
        #[arg(long, value_name = "FILE", conflicts_with = "credentials_stdin")]
        credentials_file: Option<PathBuf>,
        /// Read the JSON object of credentials from stdin.
        #[arg(long)]
        credentials_stdin: bool,
    },
    /// Start OAuth2 authorization: prints the URL to open and the state.
    Authorize {
        /// The connection id.
        id: String,
        /// Where the provider sends the user back.
        #[arg(long)]
        redirect_uri: String,
    },
    /// Finish OAuth2 authorization with the URL the provider redirected to
    /// (or its `code` and `state`).
    Callback {
        /// The full redirect URL, with `code` and `state` in its query; `-`
        /// reads it from stdin (a code on the command line is visible to
        /// other users of the machine while it runs).
        #[arg(long, conflicts_with_all = ["code", "state"])]
        url: Option<String>,
        /// The authorization code.
        #[arg(long, requires = "state")]
        code: Option<String>,
        /// The state printed by `authorize`.
        #[arg(long, requires = "code")]
        state: Option<String>,
    },
}

/// Credentials from a file, stdin, or a prompt per field (hidden for
/// secrets); never from the command line, so never in shell history.
fn read_credentials(
    host: &Host,
    provider: &str,
    file: Option<&PathBuf>,
    stdin: bool,
    public_fields: &[String],
) -> Result<Credentials, Failure> {
    if let Some(path) = file {
        return super::credentials_file(path);
    }
    if stdin {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| Failure::usage(format!("cannot read the credentials from stdin: {e}")))?;
        return super::credentials_json(&text, "stdin");
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(
            "no credentials given: use --credentials-file FILE or --credentials-stdin (no terminal to prompt on)",
        ));
    }
    let plugin = host
        .provider(provider)
        .ok_or_else(|| Failure::usage(format!("unknown provider {provider:?}: pass --plugins DIR to load it")))?;
    let mut credentials = Credentials::new();
    for field in &plugin.manifest().credentials {
        let required = if field.required {
            ""
        } else {
            " (optional, Enter to skip)"
        };
        let prompt = format!("{}{required}: ", field.label);
        // Echo only what the operator made public.
        let value = if !public_fields.contains(&field.name) {
            rpassword::prompt_password(prompt)
                .map_err(|e| Failure::usage(format!("cannot read from the terminal: {e}")))?
        } else {
            eprint!("{prompt}");
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| Failure::usage(format!("cannot read from the terminal: {e}")))?;
            line.trim_end_matches(['\r', '\n']).to_string()
        };
        if !value.is_empty() {
            credentials = credentials.with(field.name.clone(), value);
        }
    }
    Ok(credentials)
}

fn state(info: &ConnectionInfo) -> &'static str {
    if !info.enabled {
        "disabled"
    } else if info.circuit_disabled {
        "disabled (auth failures)"
    } else if !info.connected {
        "disconnected"
    } else {
        "ok"
    }
}

fn print_table(connections: &[ConnectionInfo]) {
    if connections.is_empty() {
        println!("no connections");
        return;
    }
    let width = connections.iter().map(|c| c.id.len()).max().unwrap_or(2).max(2);
    let provider_width = connections.iter().map(|c| c.provider.len()).max().unwrap_or(8).max(8);
    println!("{:width$}  {:provider_width$}  {:26}  NAME", "ID", "PROVIDER", "STATE");
    for c in connections {
        println!(
            "{:width$}  {:provider_width$}  {:26}  {}",
            c.id,
            c.provider,
            state(c),
            super::printable(&c.display_name)
        );
    }
}

pub(crate) async fn run(args: Args) -> Result<(), Failure> {
    let host = args.host.host().await?;
    let connections = host.connections(&args.tenant);
    let fail = Failure::from_connections;
    match args.command {
        Command::Add {
            provider,
            name,
            id,
            settings,
            credentials_file,
            credentials_stdin,
            public_fields,
            signing_fields,
            json,
        } => {
            let settings: Settings = settings.iter().map(|s| pair(s, "setting")).collect::<Result<_, _>>()?;
            let credentials = read_credentials(
                &host,
                &provider,
                credentials_file.as_ref(),
                credentials_stdin,
                &public_fields,
            )?;
            let info = connections
                .add(NewConnection {
                    provider,
                    display_name: name.unwrap_or_default(),
                    credentials,
                    settings,
                    id,
                    public_fields,
                    signing_fields,
                })
                .await
                .map_err(fail)?;
            if json {
                print_json(&serde_json::to_value(&info).expect("info serializes"));
            } else {
                println!("added {} ({}, {})", info.id, info.provider, state(&info));
            }
        }
        Command::List { json } => {
            let list = connections.list().await.map_err(fail)?;
            if json {
                print_json(&serde_json::to_value(&list).expect("info serializes"));
            } else {
                print_table(&list);
            }
        }
        Command::Show { id } => {
            let info = connections.get(&id).await.map_err(fail)?;
            print_json(&serde_json::to_value(&info).expect("info serializes"));
        }
        Command::Test { id } => {
            let outcome = connections.test(&id).await.map_err(fail)?;
            print_json(&json!({
                "success": outcome.success,
                "message": outcome.message,
                "details": serde_json::from_str::<Value>(&outcome.details).unwrap_or(Value::String(outcome.details.clone())),
            }));
            if !outcome.success {
                return Err(Failure::failed(format!(
                    "the provider refused the connection: {}",
                    outcome.message
                )));
            }
        }
        Command::Enable { id } => {
            let info = connections.enable(&id).await.map_err(fail)?;
            println!("enabled {} ({})", info.id, state(&info));
        }
        Command::Disable { id } => {
            let info = connections.disable(&id).await.map_err(fail)?;
            println!("disabled {}", info.id);
        }
        Command::Remove { id } => {
            connections.remove(&id).await.map_err(fail)?;
            println!("removed {id}");
        }
        Command::SetCredentials {
            id,
            credentials_file,
            credentials_stdin,
        } => {
            let stored = connections.get(&id).await.map_err(fail)?;
            let credentials = read_credentials(
                &host,
                &stored.provider,
                credentials_file.as_ref(),
                credentials_stdin,
                &stored.public_fields,
            )?;
            let info = connections.update_credentials(&id, credentials).await.map_err(fail)?;
            println!("updated the credentials of {} ({})", info.id, state(&info));
        }
        Command::Authorize { id, redirect_uri } => {
            let authorization = connections.authorize(&id, &redirect_uri).await.map_err(fail)?;
            print_json(&json!({ "url": authorization.url, "state": authorization.state }));
        }
        Command::Callback {
            url,
            code,
            state: given_state,
        } => {
            let url = match url.as_deref() {
                Some("-") => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .map_err(|e| Failure::usage(format!("cannot read the callback URL from stdin: {e}")))?;
                    Some(line.trim().to_string())
                }
                _ => url,
            };
            let params = match (url, code, given_state) {
                (Some(url), _, _) => {
                    let parsed = url::Url::parse(&url)
                        .map_err(|e| Failure::usage(format!("the callback URL is not a URL: {e}")))?;
                    let get = |name: &str| {
                        parsed
                            .query_pairs()
                            .find(|(k, _)| k == name)
                            .map(|(_, v)| v.into_owned())
                    };
                    if let Some(error) = get("error") {
                        return Err(Failure::failed(format!(
                            "the provider refused the authorization: {error} {}",
                            get("error_description").unwrap_or_default()
                        )));
                    }
                    get("code").ok_or_else(|| Failure::usage("the callback URL has no code"))?;
                    get("state").ok_or_else(|| Failure::usage("the callback URL has no state"))?;
                    // Every parameter: the plugin may check the callback's signature.
                    parsed.query_pairs().into_owned().collect::<Vec<_>>()
                }
                (None, Some(code), Some(callback_state)) => {
                    vec![("code".to_string(), code), ("state".to_string(), callback_state)]
                }
                _ => return Err(Failure::usage("give --url, or --code with --state")),
            };
            let info = connections.complete_callback(&params).await.map_err(fail)?;
            println!("authorized {} ({})", info.id, state(&info));
        }
    }
    Ok(())
}

#[derive(clap::Args)]
pub(crate) struct VaultArgs {
    #[command(flatten)]
    host: HostOptions,
    #[command(subcommand)]
    command: VaultCommand,
}

#[derive(clap::Subcommand)]
enum VaultCommand {
    /// Re-encrypt every stored secret under a new key, atomically, and
    /// replace the key file (or print the new key when it came from
    /// $PATCHBAY_VAULT_KEY).
    RotateKey {
        /// Write the new key here instead of replacing the key file.
        #[arg(long, value_name = "FILE")]
        new_key_file: Option<PathBuf>,
    },
}

pub(crate) async fn run_vault(args: VaultArgs) -> Result<(), Failure> {
    let VaultCommand::RotateKey { new_key_file } = args.command;
    let key = args.host.vault_key()?;
    let from_env = matches!(key.origin(), patchbay::vault::KeyOrigin::Environment);
    let host = args.host.host_with(key).await?;
    let target = match (&new_key_file, from_env) {
        (Some(path), _) => path.clone(),
        (None, true) => {
            return Err(Failure::usage(
                "the key comes from $PATCHBAY_VAULT_KEY: give --new-key-file FILE for the new key",
            ));
        }
        (None, false) => args.host.key_file(),
    };
    let new_key = VaultKey::generate();
    // The new key is on disk before the database changes, so a crash
    // between the two leaves a key that opens the database.
    let staged = super::host_options::staged_key_file(&target);
    new_key.write_file(&staged).map_err(|e| Failure::fault(e.to_string()))?;
    let count = host
        .rotate_vault_key(new_key.clone())
        .await
        .map_err(|e| Failure::fault(format!("{e}; the old key is still in force")))?;
    std::fs::rename(&staged, &target).map_err(|e| {
        Failure::fault(format!(
            "the database uses the new key in {}, but it could not be moved to {}: {e}",
            staged.display(),
            target.display()
        ))
    })?;
    // The rename is durable only once its directory is.
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Failure::fault(format!("cannot sync {}: {e}", dir.display())))?;
    }
    println!(
        "re-encrypted {count} connection(s); the new key (fingerprint {}) is in {}",
        new_key.fingerprint(),
        target.display()
    );
    if from_env {
        println!("update $PATCHBAY_VAULT_KEY with the new key before the next start");
    }
    Ok(())
}
