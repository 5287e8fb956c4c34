//! `patchbay-c`: the two steps of a C plugin's build that need the component
//! model's tooling. Compiling the C itself is zig's job (`python -m ziglang
//! cc`); see `sdk/c/build.py`, which runs all three.
//!
//! ```text
//! patchbay-c bindings --wit wit --world llm-provider --out generated
//! patchbay-c componentize --module plugin.core.wasm --out plugin.wasm
//! ```
//!
//! Bindings are generated with the world renamed to `plugin` (`plugin.h`,
//! `plugin_string_t`, ...), so the C SDK helpers compile against any world.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_bindgen_core::Files;
use wit_bindgen_core::wit_parser::Resolve;

#[derive(Parser)]
#[command(about = "Bindings and componentization for C Patchbay plugins")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generates C bindings (`plugin.h`, `plugin.c`, `plugin_component_type.o`) for a world.
    Bindings {
        /// The contract's wit/ directory.
        #[arg(long)]
        wit: PathBuf,
        /// The world, e.g. `llm-provider`.
        #[arg(long)]
        world: String,
        /// Where to write the files.
        #[arg(long)]
        out: PathBuf,
    },
    /// Turns a core module (wasm32-wasi, reactor) with the embedded world into a component.
    Componentize {
        /// The core module the C compiler produced.
        #[arg(long)]
        module: PathBuf,
        /// The component to write.
        #[arg(long)]
        out: PathBuf,
    },
}

fn bindings(wit: &PathBuf, world: &str, out: &PathBuf) -> Result<()> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(wit)
        .with_context(|| format!("reading the contract in {}", wit.display()))?;
    let world_id = resolve
        .select_world(&[package], Some(world))
        .with_context(|| format!("no world {world:?} in {}", wit.display()))?;
    let mut files = Files::default();
    let opts = wit_bindgen_c::Opts {
        rename_world: Some("plugin".into()),
        ..Default::default()
    };
    opts.build().generate(&mut resolve, world_id, &mut files)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for (name, contents) in files.iter() {
        let path = out.join(name);
        std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn componentize(module: &PathBuf, out: &PathBuf) -> Result<()> {
    let bytes = std::fs::read(module).with_context(|| format!("reading {}", module.display()))?;
    if !bytes.starts_with(b"\0asm") {
        bail!("{} is not a WebAssembly module", module.display());
    }
    let component = wit_component::ComponentEncoder::default()
        .validate(true)
        .module(&bytes)
        .context("the module carries no component type: link the generated plugin_component_type.o")?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .encode()
        .context("componentizing")?;
    std::fs::write(out, component).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Bindings { wit, world, out } => bindings(&wit, &world, &out),
        Command::Componentize { module, out } => componentize(&module, &out),
    }
}
