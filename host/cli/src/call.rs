//! `patchbay call PROVIDER PORT.FUNCTION --plugins DIR [--json INPUT] ...`

use std::path::PathBuf;

use patchbay::{Credentials, Settings};
use serde_json::Value;

use super::host_options::HostOptions;
use super::{Failure, pair, print_json};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The provider, `family/name`, e.g. `shop/woocommerce` (omitted with --connection).
    #[arg(value_name = "PROVIDER")]
    first: String,
    /// The operation, `interface.function`, e.g. `shop.get-orders`.
    #[arg(value_name = "TARGET")]
    second: Option<String>,
    /// Use a stored connection (see `patchbay connections`) instead of
    /// credentials and settings given here.
    #[arg(long, value_name = "ID", conflicts_with_all = ["credentials", "credentials_file", "settings"])]
    connection: Option<String>,
    /// The tenant of --connection.
    #[arg(long, env = "PATCHBAY_TENANT", default_value = "default")]
    tenant: String,
    #[command(flatten)]
    host: HostOptions,
    /// The arguments as a JSON object keyed by parameter name; `@FILE` reads
    /// a file and `-` reads stdin. Default: `{}`.
    #[arg(long = "json", value_name = "INPUT")]
    input: Option<String>,
    /// A credential, NAME=VALUE (repeatable). Prefer --credentials-file: values
    /// on the command line end up in shell history and are visible to other
    /// users of the machine while the command runs.
    #[arg(long = "credential", value_name = "NAME=VALUE")]
    credentials: Vec<String>,
    /// A JSON object of credentials, {"NAME": "VALUE"}.
    #[arg(long, value_name = "FILE")]
    credentials_file: Option<PathBuf>,
    /// A setting, NAME=VALUE (repeatable).
    #[arg(long = "setting", value_name = "NAME=VALUE")]
    settings: Vec<String>,
    /// A credential field the plugin may read (repeatable); every other one
    /// is secret, whatever the plugin declares.
    #[arg(long = "public", value_name = "FIELD", conflicts_with = "connection")]
    public_fields: Vec<String>,
    /// A credential field the plugin may use as a key through `crypto`
    /// (repeatable).
    #[arg(long = "signing", value_name = "FIELD", conflicts_with = "connection")]
    signing_fields: Vec<String>,
    /// A file argument, NAME=@FILE (repeatable; NAME=- reads stdin): passed
    /// by reference as a blob (`blob-storage.save-blob`'s `content`), never
    /// loaded whole.
    #[arg(long = "blob", value_name = "NAME=@FILE")]
    blobs: Vec<String>,
    /// Where a file the plugin answers with is written
    /// (`blob-storage.open-blob`); the JSON answer names its size.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write the host's metrics (OpenMetrics text) to this file after the call.
    #[arg(long, value_name = "FILE")]
    metrics: Option<PathBuf>,
    /// Time limit of the call in seconds.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

fn read_input(input: Option<&str>) -> Result<Value, Failure> {
    let text = match input {
        None => return Ok(Value::Object(Default::default())),
        Some("-") => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| Failure::usage(format!("cannot read the input from stdin: {e}")))?;
            text
        }
        Some(path) if path.starts_with('@') => std::fs::read_to_string(&path[1..])
            .map_err(|e| Failure::usage(format!("cannot read the input file {}: {e}", &path[1..])))?,
        Some(text) => text.to_string(),
    };
    serde_json::from_str(&text).map_err(|e| Failure::usage(format!("the input is not valid JSON: {e}")))
}

fn credentials(args: &Args) -> Result<Credentials, Failure> {
    let mut credentials = match &args.credentials_file {
        Some(path) => super::credentials_file(path)?,
        None => Credentials::new(),
    };
    for text in &args.credentials {
        let (name, value) = pair(text, "credential")?;
        credentials = credentials.with(name, value);
    }
    Ok(credentials)
}

pub(crate) async fn run(args: Args) -> Result<(), Failure> {
    let input = read_input(args.input.as_deref())?;
    let (provider, target) = match (&args.second, &args.connection) {
        (Some(target), _) => (Some(args.first.clone()), target.clone()),
        (None, Some(_)) => (None, args.first.clone()),
        (None, None) => {
            return Err(Failure::usage(
                "give PROVIDER TARGET, or --connection ID TARGET (e.g. `call shop/woocommerce shop.get-orders`)",
            ));
        }
    };
    if args.host.plugins.is_none() {
        return Err(Failure::usage(
            "--plugins DIR (or $PATCHBAY_PLUGINS) is required to call a plugin",
        ));
    }
    let limits = patchbay::Limits {
        call_timeout: std::time::Duration::from_secs(args.timeout),
        ..Default::default()
    };
    let mut builder = args.host.builder().limits(limits);
    if args.connection.is_some() {
        builder = builder.vault_key(args.host.vault_key()?);
    } else if let Some(provider) = &provider {
        // One call loads one plugin: files the compile cache knows to hold
        // other providers are not read.
        builder = builder.only_providers([provider.clone()]);
    }
    let host = super::host_options::build(builder).await?;
    let connection = match &args.connection {
        Some(id) => {
            let connection = host
                .connections(&args.tenant)
                .open(id)
                .await
                .map_err(Failure::from_connections)?;
            if let Some(provider) = provider.as_deref().filter(|p| *p != connection.plugin().key()) {
                return Err(Failure::usage(format!(
                    "the connection {id:?} is for {}, not {provider}",
                    connection.plugin().key()
                )));
            }
            connection
        }
        None => {
            let provider = provider.expect("a provider without --connection");
            if host.provider(&provider).is_none() {
                for reason in host.load_failures() {
                    eprintln!("skipped: {reason}");
                }
            }
            let options = patchbay::ConnectOptions {
                id: None,
                public_fields: args.public_fields.clone(),
                signing_fields: args.signing_fields.clone(),
            };
            host.connect_with(&provider, credentials(&args)?, settings(&args)?, options)
                .map_err(|e| Failure::of(e.kind(), e.to_string()))?
        }
    };
    let output = if target == "streaming.stream-complete" {
        stream(&connection, &target, &input).await
    } else {
        let blobs = blob_arguments(&connection, &args.blobs).await?;
        match connection.call_json_blobs(&target, &input, blobs).await {
            Ok(answer) => {
                write_output(args.output.as_deref(), &answer.blobs).await?;
                Ok(answer.value)
            }
            Err(error) => Err(error),
        }
    };
    if let Some(path) = &args.metrics {
        std::fs::write(path, host.metrics_text())
            .map_err(|e| Failure::fault(format!("cannot write the metrics to {}: {e}", path.display())))?;
    }
    print_json(&output.map_err(Failure::from_call)?);
    Ok(())
}

/// The `--blob NAME=@FILE` arguments: files taken as they are, stdin
/// spooled into a blob.
async fn blob_arguments(
    connection: &patchbay::Connection,
    specs: &[String],
) -> Result<std::collections::BTreeMap<String, patchbay::outbound::BlobRange>, Failure> {
    let mut blobs = std::collections::BTreeMap::new();
    for spec in specs {
        let (name, source) = pair(spec, "blob")?;
        let blob = if source == "-" {
            connection
                .blob_from_reader(tokio::io::stdin())
                .await
                .map_err(|e| Failure::usage(format!("--blob {name}=-: cannot read stdin: {e}")))?
        } else {
            let path = source.strip_prefix('@').ok_or_else(|| {
                Failure::usage(format!("--blob {name}={source}: give a file as @FILE, or - for stdin"))
            })?;
            patchbay::outbound::Blob::from_file(path)
                .map_err(|e| Failure::usage(format!("--blob {name}=@{path}: {e}")))?
        };
        if blobs.insert(name.clone(), blob.whole()).is_some() {
            return Err(Failure::usage(format!("--blob {name} is given twice")));
        }
    }
    Ok(blobs)
}

/// Writes the file the plugin answered with to `--output`.
async fn write_output(
    output: Option<&std::path::Path>,
    blobs: &[patchbay::outbound::BlobRange],
) -> Result<(), Failure> {
    use futures::TryStreamExt as _;
    use tokio::io::AsyncWriteExt as _;
    let Some(blob) = blobs.first() else {
        return match output {
            Some(_) => Err(Failure::usage("--output: the answer holds no file to write")),
            None => Ok(()),
        };
    };
    let Some(path) = output else {
        return Err(Failure::usage(format!(
            "the answer is a file of {} bytes: give --output FILE to keep it",
            blob.len()
        )));
    };
    let unwritable = |e: std::io::Error| Failure::fault(format!("cannot write {}: {e}", path.display()));
    let mut file = tokio::fs::File::create(path).await.map_err(unwritable)?;
    let mut chunks = std::pin::pin!(blob.chunks());
    while let Some(chunk) = chunks.try_next().await.map_err(unwritable)? {
        file.write_all(&chunk).await.map_err(unwritable)?;
    }
    file.flush().await.map_err(unwritable)?;
    Ok(())
}

/// A streamed completion: its text goes to stderr as it arrives (what a
/// person at the terminal watches), the whole answer to stdout as JSON.
async fn stream(connection: &patchbay::Connection, target: &str, input: &Value) -> Result<Value, patchbay::CallError> {
    let (sink, mut chunks) = tokio::sync::mpsc::unbounded_channel::<patchbay::types::StreamChunk>();
    let printer = tokio::spawn(async move {
        use std::io::Write as _;
        let mut printed = false;
        while let Some(chunk) = chunks.recv().await {
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(chunk.content_delta.as_bytes());
            let _ = stderr.flush();
            printed |= !chunk.content_delta.is_empty();
        }
        if printed {
            eprintln!();
        }
    });
    let output = connection.call_json_streaming(target, input, sink).await;
    let _ = printer.await;
    output
}

fn settings(args: &Args) -> Result<Settings, Failure> {
    args.settings.iter().map(|s| pair(s, "setting")).collect()
}
