//! `patchbay webhooks url|rotate|register|registrations|unregister`: a
//! stored connection's ingress URL, and its subscriptions at the provider
//! through the plugin's `webhooks` capability.

use serde_json::json;

use super::host_options::HostOptions;
use super::{Failure, print_json};

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    host: HostOptions,
    /// The tenant owning the connection.
    #[arg(long, global = true, env = "PATCHBAY_TENANT", default_value = "default")]
    tenant: String,
    /// The service's public base URL: the ingress URL is
    /// `<public-url>/v1/webhooks/<token>`.
    #[arg(
        long,
        global = true,
        env = "PATCHBAY_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    public_url: url::Url,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Print the connection's ingress URL (made on first use).
    Url {
        /// The connection's id.
        connection: String,
    },
    /// Replace the connection's ingress token; the old URL stops working.
    Rotate {
        /// The connection's id.
        connection: String,
    },
    /// Subscribe the ingress URL at the provider, through the plugin.
    Register {
        /// The connection's id.
        connection: String,
        /// A provider event type (repeatable; the plugin's defaults when none).
        #[arg(long = "event", value_name = "TYPE")]
        events: Vec<String>,
    },
    /// List the subscriptions at the provider, as JSON.
    Registrations {
        /// The connection's id.
        connection: String,
    },
    /// Remove a subscription at the provider.
    Unregister {
        /// The connection's id.
        connection: String,
        /// The subscription's id at the provider.
        id: String,
    },
}

fn ingress_url(public_url: &url::Url, token: &str) -> String {
    format!("{}/v1/webhooks/{token}", public_url.as_str().trim_end_matches('/'))
}

pub(crate) async fn run(args: Args) -> Result<(), Failure> {
    let host = args.host.host().await?;
    let webhooks = host.webhooks(&args.tenant);
    let fail = Failure::from_connections;
    let open = |id: String| {
        let connections = host.connections(&args.tenant);
        async move { connections.open(&id).await.map_err(Failure::from_connections) }
    };
    match args.command {
        Command::Url { connection } => {
            let token = webhooks.ingress_token(&connection).await.map_err(fail)?;
            println!("{}", ingress_url(&args.public_url, &token));
        }
        Command::Rotate { connection } => {
            let token = webhooks.rotate_ingress_token(&connection).await.map_err(fail)?;
            println!("{}", ingress_url(&args.public_url, &token));
        }
        Command::Register { connection, events } => {
            let token = webhooks.ingress_token(&connection).await.map_err(fail)?;
            let opened = open(connection).await?;
            let port = opened.webhooks().map_err(Failure::from_call)?;
            let registration = port
                .register(&ingress_url(&args.public_url, &token), &events)
                .await
                .map_err(Failure::from_call)?;
            print_json(&json!({
                "id": registration.id,
                "url": registration.url,
                "events": registration.events,
                "active": registration.active,
            }));
        }
        Command::Registrations { connection } => {
            let opened = open(connection).await?;
            let port = opened.webhooks().map_err(Failure::from_call)?;
            let list = port.list_registrations().await.map_err(Failure::from_call)?;
            let list: Vec<_> = list
                .into_iter()
                .map(|r| json!({"id": r.id, "url": r.url, "events": r.events, "active": r.active}))
                .collect();
            print_json(&json!(list));
        }
        Command::Unregister { connection, id } => {
            let opened = open(connection).await?;
            let port = opened.webhooks().map_err(Failure::from_call)?;
            port.unregister(&id).await.map_err(Failure::from_call)?;
        }
    }
    Ok(())
}
