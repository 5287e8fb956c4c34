//! `patchbay c bindings|componentize`: the two steps of a C plugin's build
//! that need the component model's tooling, so that a C author needs the
//! `patchbay` binary and nothing else of Rust. Compiling the C itself is
//! zig's job; the C SDK's `build.py` runs all three.
//!
//! ```text
//! patchbay c bindings --world llm-provider --out generated [--wit DIR]
//! patchbay c componentize --module plugin.core.wasm --out plugin.wasm
//! ```
//!
//! Bindings are generated with the world renamed to `plugin` (`plugin.h`,
//! `plugin_string_t`, ...), so the C SDK's helpers compile against any world.

use std::path::{Path, PathBuf};

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_bindgen_core::Files;
use wit_parser::Resolve;

use super::Failure;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[command(subcommand)]
    step: Step,
}

#[derive(clap::Subcommand, Debug)]
enum Step {
    /// Generate C bindings (`plugin.h`, `plugin.c`, `plugin_component_type.o`) for a world.
    Bindings {
        /// The world, e.g. `llm-provider`.
        #[arg(long)]
        world: String,
        /// Where to write the files.
        #[arg(long)]
        out: PathBuf,
        /// A wit/ directory to read instead of the contract this binary
        /// carries (the C SDK passes its own, the version it builds against).
        #[arg(long)]
        wit: Option<PathBuf>,
    },
    /// Turn a core module (wasm32-wasi, reactor) with the embedded world into a component.
    Componentize {
        /// The core module the C compiler produced.
        #[arg(long)]
        module: PathBuf,
        /// The component to write.
        #[arg(long)]
        out: PathBuf,
    },
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    match args.step {
        Step::Bindings { world, out, wit } => bindings(wit.as_deref(), &world, &out),
        Step::Componentize { module, out } => componentize(&module, &out),
    }
}

fn bindings(wit: Option<&Path>, world: &str, out: &Path) -> Result<(), Failure> {
    let (mut resolve, package, source) = match wit {
        Some(dir) => {
            let mut resolve = Resolve::default();
            let (package, _) = resolve
                .push_dir(dir)
                .map_err(|e| Failure::usage(format!("cannot read the contract in {}: {e:#}", dir.display())))?;
            (resolve, package, dir.display().to_string())
        }
        None => {
            let (resolve, package) = crate::contract::resolve().map_err(Failure::fault)?;
            (resolve, package, format!("contract {}", crate::contract::version()))
        }
    };
    let world_id = resolve
        .select_world(&[package], Some(world))
        .map_err(|e| Failure::usage(format!("no world {world:?} in {source}: {e:#}")))?;
    let mut files = Files::default();
    let opts = wit_bindgen_c::Opts {
        rename_world: Some("plugin".into()),
        ..Default::default()
    };
    opts.build()
        .generate(&mut resolve, world_id, &mut files)
        .map_err(|e| Failure::fault(format!("wit-bindgen c failed for {world}: {e:#}")))?;
    std::fs::create_dir_all(out).map_err(|e| Failure::failed(format!("cannot create {}: {e}", out.display())))?;
    for (name, contents) in files.iter() {
        let path = out.join(name);
        std::fs::write(&path, contents)
            .map_err(|e| Failure::failed(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

fn componentize(module: &Path, out: &Path) -> Result<(), Failure> {
    let bytes = std::fs::read(module).map_err(|e| Failure::usage(format!("cannot read {}: {e}", module.display())))?;
    if !bytes.starts_with(b"\0asm") {
        return Err(Failure::usage(format!(
            "{} is not a WebAssembly module",
            module.display()
        )));
    }
    let component = wit_component::ComponentEncoder::default()
        .validate(true)
        .module(&bytes)
        .map_err(|e| {
            Failure::usage(format!(
                "{} carries no component type (link the generated plugin_component_type.o): {e:#}",
                module.display()
            ))
        })?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .map_err(|e| Failure::fault(format!("the WASI adapter does not load: {e:#}")))?
        .encode()
        .map_err(|e| Failure::usage(format!("cannot componentize {}: {e:#}", module.display())))?;
    std::fs::write(out, component).map_err(|e| Failure::failed(format!("cannot write {}: {e}", out.display())))
}
