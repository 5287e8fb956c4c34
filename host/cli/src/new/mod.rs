//! `patchbay new NAME --family F --lang rust|ts|python|c`: a plugin that
//! builds and passes its own test. The port's operations come from the
//! contract itself (`wit/`, read with wit-parser), so every family and every
//! language gets the right world and the right signatures. Each operation
//! answers `unsupported` until it is written; `test-connection` calls the
//! provider's `GET {base_url}/health` with the `api_key` credential as a
//! bearer token, and `test/mock_server.py` is the stub of that provider.

mod c;
mod port;
mod python;
mod rust;
#[cfg(test)]
mod sdk;
mod shared;
mod ts;

use std::path::{Path, PathBuf};

use clap::ValueEnum;

use super::Failure;
use port::Port;

/// The language of a new plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Lang {
    /// Rust (wasm32-wasip2, the Rust SDK).
    Rust,
    /// TypeScript (componentize-js, sdk/js).
    Ts,
    /// Python (componentize-py, sdk/python).
    Python,
    /// C (wit-bindgen c, zig, sdk/c).
    C,
}

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The provider's name: 1-64 of a-z, 0-9 and '-', e.g. `acme`.
    name: String,
    /// The family: shop, courier, payment, messaging, storage, llm, feed or other.
    #[arg(long)]
    family: String,
    /// The language.
    #[arg(long, value_enum)]
    lang: Lang,
    /// Where to create the plugin (default: plugins/<family>-<name> in the
    /// Patchbay checkout, else ./<family>-<name>). Must not exist.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The Patchbay checkout with wit/ and sdk/ (default: found by walking up
    /// from the current directory).
    #[arg(long, env = "PATCHBAY_ROOT")]
    root: Option<PathBuf>,
}

/// What a language writes: files relative to the plugin directory.
pub(crate) struct Scaffold {
    pub files: Vec<(String, String)>,
    /// The commands that build `dist/<family>-<name>.wasm` (the body of build.sh).
    pub build: String,
    /// The language, for the README.
    pub language: &'static str,
    /// The SDK's documentation, relative to the checkout.
    pub sdk_doc: &'static str,
}

/// What every language's generator knows.
pub(crate) struct Plan<'a> {
    pub name: &'a str,
    pub family: &'a str,
    pub port: &'a Port,
    /// The checkout, as the plugin should refer to it (relative when inside).
    pub root: String,
    /// `<family>-<name>`.
    pub artifact: String,
}

impl Plan<'_> {
    /// `Acme` from `acme`, `Acme Cloud` from `acme-cloud`.
    pub fn display_name(&self) -> String {
        self.name
            .split('-')
            .map(|w| {
                let mut chars = w.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The checkout: a directory with `wit/worlds.wit` and `sdk/`.
fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join("wit/worlds.wit").is_file() && dir.join("sdk/Cargo.toml").is_file())
        .map(Path::to_path_buf)
}

/// `root` as seen from `dir`: `../..` when `dir` is inside it, else absolute.
fn relative(root: &Path, dir: &Path) -> String {
    match dir.strip_prefix(root) {
        Ok(inside) => {
            let depth = inside.components().count();
            if depth == 0 {
                ".".into()
            } else {
                vec![".."; depth].join("/")
            }
        }
        Err(_) => root.display().to_string(),
    }
}

pub(crate) async fn run(args: Args) -> Result<(), Failure> {
    if !valid_name(&args.name) {
        return Err(Failure::usage(format!(
            "the name {:?} must be 1-64 characters of a-z, 0-9 and '-', not starting or ending with '-'",
            args.name
        )));
    }
    let cwd = std::env::current_dir().map_err(|e| Failure::fault(format!("no current directory: {e}")))?;
    let root = match args.root {
        Some(root) => root,
        None => find_root(&cwd).ok_or_else(|| {
            Failure::usage("not inside a Patchbay checkout (no wit/worlds.wit and sdk/ above): pass --root")
        })?,
    };
    let root = std::fs::canonicalize(&root)
        .map_err(|e| Failure::usage(format!("cannot use {} as the Patchbay checkout: {e}", root.display())))?;
    let port = Port::load(&root.join("wit"), &args.family).map_err(Failure::usage)?;
    let artifact = format!("{}-{}", args.family, args.name);
    let dir = match args.dir {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => cwd.join(dir),
        None if cwd.starts_with(&root) => root.join("plugins").join(&artifact),
        None => cwd.join(&artifact),
    };
    if dir.exists() {
        return Err(Failure::usage(format!("{} already exists", dir.display())));
    }
    let parent = dir.parent().unwrap_or(&dir);
    std::fs::create_dir_all(parent).map_err(|e| Failure::failed(format!("cannot create {}: {e}", parent.display())))?;
    let dir_canonical = std::fs::canonicalize(parent)
        .map(|p| p.join(dir.file_name().unwrap_or_default()))
        .unwrap_or(dir.clone());
    let plan = Plan {
        name: &args.name,
        family: &args.family,
        port: &port,
        root: relative(&root, &dir_canonical),
        artifact,
    };
    let scaffold = match args.lang {
        Lang::Rust => rust::scaffold(&plan),
        Lang::Ts => ts::scaffold(&plan),
        Lang::Python => python::scaffold(&plan),
        Lang::C => c::scaffold(&plan),
    };
    let mut files = scaffold.files;
    files.extend(shared::files(
        &plan,
        &scaffold.build,
        scaffold.language,
        scaffold.sdk_doc,
    ));
    for (path, contents) in &files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::failed(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, contents)
            .map_err(|e| Failure::failed(format!("cannot write {}: {e}", path.display())))?;
        #[cfg(unix)]
        if path.extension().is_some_and(|e| e == "sh") {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755));
        }
    }
    println!(
        "created {} ({} plugin, {} port)",
        dir.display(),
        args.family,
        port.interface
    );
    println!("  build: cd {} && ./build.sh", dir.display());
    println!("  test:  python3 test/test_plugin.py   (PATCHBAY= the patchbay binary, default: patchbay on PATH)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_relative_roots() {
        assert!(valid_name("acme-cloud") && !valid_name("Acme") && !valid_name("-x") && !valid_name(""));
        assert_eq!(relative(Path::new("/r"), Path::new("/r/plugins/llm-x")), "../..");
        assert_eq!(relative(Path::new("/r"), Path::new("/elsewhere/x")), "/r");
    }
}
