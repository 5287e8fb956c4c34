//! `patchbay serve`: the host as a multi-tenant HTTP service (see the
//! `patchbay-serve` crate), and `patchbay keys`: its API keys.

use std::net::SocketAddr;
use std::path::PathBuf;

use patchbay_serve::{ConfigFile, Settings};
use url::Url;

use crate::Failure;
use crate::host_options::HostOptions;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// A TOML file with the same keys as these options (kebab-case:
    /// `listen`, `plugins`, `database`, `public-url`, ...); options and
    /// `PATCHBAY_*` variables override it.
    #[arg(long, env = "PATCHBAY_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, env = "PATCHBAY_LISTEN", value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// The service's public base URL, for OAuth2 redirect URIs (default: http://LISTEN).
    #[arg(long, env = "PATCHBAY_PUBLIC_URL", value_name = "URL")]
    public_url: Option<Url>,
    /// Where /oauth/callback sends the user afterwards (default: a plain result page).
    #[arg(long, env = "PATCHBAY_OAUTH_DONE_URL", value_name = "URL")]
    oauth_done_url: Option<Url>,
    /// The largest request body, in bytes (default 1 MiB).
    #[arg(long, env = "PATCHBAY_BODY_LIMIT", value_name = "BYTES")]
    body_limit: Option<usize>,
    /// A call's deadline, in seconds (default 60).
    #[arg(long, env = "PATCHBAY_CALL_TIMEOUT", value_name = "SECONDS")]
    call_timeout: Option<u64>,
    /// Calls in flight at most (default 256).
    #[arg(long, env = "PATCHBAY_MAX_IN_FLIGHT", value_name = "N")]
    max_in_flight: Option<usize>,
    /// Calls in flight at most for one tenant (default 32).
    #[arg(long, env = "PATCHBAY_MAX_IN_FLIGHT_PER_TENANT", value_name = "N")]
    max_in_flight_per_tenant: Option<usize>,
    /// Seconds the calls in flight get to finish at shutdown (default 30).
    #[arg(long, env = "PATCHBAY_SHUTDOWN_GRACE", value_name = "SECONDS")]
    shutdown_grace: Option<u64>,
    #[command(flatten)]
    host: HostOptions,
}

impl Args {
    /// The file's keys, overridden by what was given here.
    fn merged(self) -> Result<(ConfigFile, HostOptions), Failure> {
        let mut file = match &self.config {
            Some(path) => ConfigFile::read(path).map_err(|e| Failure::usage(e.to_string()))?,
            None => ConfigFile::default(),
        };
        macro_rules! over {
            ($($field:ident),+) => { $( if self.$field.is_some() { file.$field = self.$field; } )+ };
        }
        over!(
            listen,
            public_url,
            oauth_done_url,
            body_limit,
            call_timeout,
            max_in_flight,
            max_in_flight_per_tenant,
            shutdown_grace
        );
        let mut host = self.host;
        host.plugins = host.plugins.or(file.plugins.clone());
        host.database = host.database.or(file.database.clone());
        host.redis = host.redis.or(file.redis.clone());
        host.replicas = host.replicas.or(file.replicas);
        host.vault_key_file = host.vault_key_file.or(file.vault_key_file.clone());
        host.allow_private_network |= file.allow_private_network.unwrap_or(false);
        Ok((file, host))
    }
}

pub(crate) async fn run(args: Args) -> Result<(), Failure> {
    let (file, options) = args.merged()?;
    let settings = Settings::from_file(&file);
    let key = options.vault_key()?;
    // A long-lived host: instances pooled, plugins watched.
    let mut builder = options.builder().pooling(true).vault_key(key);
    for (provider, limit) in file.rate_limits.iter().flatten() {
        builder = builder.rate_limit(provider, limit.requests_per_second, limit.burst);
    }
    let host = crate::host_options::build(builder).await?;
    let _watcher = match &options.plugins {
        Some(dir) => Some(
            host.watch(dir)
                .map_err(|e| Failure::of(e.kind(), format!("cannot watch {}: {e}", dir.display())))?,
        ),
        None => None,
    };
    for failure in host.load_failures() {
        tracing::warn!("{}", crate::printable(&failure));
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| Failure::usage(format!("cannot listen on {}: {e}", settings.listen)))?;
    let address = listener.local_addr().map_err(|e| Failure::fault(e.to_string()))?;
    eprintln!(
        "patchbay serve: listening on http://{address} ({} providers; API docs at /docs, OpenAPI at /openapi.json)",
        host.providers().len()
    );
    patchbay_serve::serve(host, settings, listener, patchbay_serve::shutdown_signal())
        .await
        .map_err(|e| Failure::fault(format!("the server failed: {e}")))?;
    eprintln!("patchbay serve: stopped");
    Ok(())
}

#[derive(clap::Args)]
pub(crate) struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
    #[command(flatten)]
    host: HostOptions,
}

#[derive(clap::Subcommand)]
enum KeysCommand {
    /// Create a key for a tenant; it is printed once and only its hash is kept.
    Create {
        /// The tenant the key acts for.
        #[arg(long)]
        tenant: String,
        /// An operator's key (the /v1/admin endpoints).
        #[arg(long)]
        admin: bool,
        /// What to call it.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List the keys (ids, tenants, labels; never the keys).
    List,
    /// Revoke a key by its id.
    Revoke {
        /// The key's id (the part after `pbk_`, before the next `_`).
        id: String,
    },
}

pub(crate) async fn run_keys(args: KeysArgs) -> Result<(), Failure> {
    let host = crate::host_options::build(args.host.builder()).await?;
    let keys = host.api_keys();
    let store = |e: patchbay::store::StoreError| Failure::usage(e.to_string());
    match args.command {
        KeysCommand::Create { tenant, admin, label } => {
            let created = keys.create(&tenant, admin, &label).await.map_err(store)?;
            eprintln!(
                "created {}key {} for tenant {}; it is shown this once:",
                if admin { "an admin " } else { "" },
                created.info.id,
                crate::printable(&created.info.tenant)
            );
            println!("{}", created.key);
        }
        KeysCommand::List => {
            let list = keys.list().await.map_err(store)?;
            crate::print_json(&serde_json::to_value(list).expect("key infos serialize"));
        }
        KeysCommand::Revoke { id } => {
            if !keys.revoke(&id).await.map_err(store)? {
                return Err(Failure::usage(format!("no API key {id:?}")));
            }
            eprintln!("revoked {id}");
        }
    }
    Ok(())
}
