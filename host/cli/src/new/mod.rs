//! `patchbay new NAME --family F --lang rust|ts|python|c`: a plugin that
//! builds and passes its own test, in any directory. The port's operations
//! come from the contract the binary carries (read with wit-parser), so every
//! family and every language gets the right world and the right signatures.
//! The plugin depends on its language's SDK package by name and version (the
//! CLI's); `--sdk-packages DIR` vendors local package files instead. Each operation
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
mod vendor;

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
    /// Where to create the plugin (default: ./<family>-<name>). Must not exist.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// A directory of SDK packages (what `just package-sdks` writes:
    /// rust/, js/, python/, c/) to vendor into the plugin instead of the
    /// published packages. The C SDK is only a source tarball, so a C plugin
    /// needs it.
    #[arg(long, env = "PATCHBAY_SDK_PACKAGES")]
    sdk_packages: Option<PathBuf>,
}

/// What a language writes: files relative to the plugin directory.
pub(crate) struct Scaffold {
    pub files: Vec<(String, String)>,
    /// SDK packages for `vendor/`.
    pub vendor: Vec<Vendor>,
    /// The commands that build `dist/<family>-<name>.wasm` (the body of build.sh).
    pub build: String,
    /// The language, for the README.
    pub language: &'static str,
    /// Where the language's SDK is documented.
    pub sdk_doc: &'static str,
}

/// An SDK package that goes into the plugin's `vendor/` directory.
pub(crate) enum Vendor {
    /// The file itself (an npm tarball, a wheel), which the language's
    /// package manager installs.
    Copy(PathBuf),
    /// A `.tar.gz` (a `.crate`, the C SDK) unpacked there: its top
    /// directory becomes `vendor/<name>-<version>`.
    Unpack(PathBuf),
}

/// What every language's generator knows.
pub(crate) struct Plan<'a> {
    pub name: &'a str,
    pub family: &'a str,
    pub port: &'a Port,
    /// `<family>-<name>`.
    pub artifact: String,
    /// The directory of SDK packages to vendor, if any.
    pub packages: Option<&'a Path>,
}

/// The version of every SDK package this binary scaffolds with: the SDKs
/// are released with the CLI, so they share its version.
pub(crate) const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

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

    /// The package file `file` in the packages directory's `lang/`, when
    /// one was given: `Ok(None)` without a packages directory, an error
    /// naming what is missing.
    pub fn package(&self, lang: &str, file: &str) -> Result<Option<PathBuf>, String> {
        let Some(packages) = self.packages else { return Ok(None) };
        let path = packages.join(lang).join(file);
        if path.is_file() {
            Ok(Some(path))
        } else {
            Err(format!(
                "{} is missing: the SDK packages directory must hold {lang}/{file} (`just package-sdks` writes it for SDK version {SDK_VERSION})",
                path.display()
            ))
        }
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

pub(crate) async fn run(args: Args) -> Result<(), Failure> {
    if !valid_name(&args.name) {
        return Err(Failure::usage(format!(
            "the name {:?} must be 1-64 characters of a-z, 0-9 and '-', not starting or ending with '-'",
            args.name
        )));
    }
    let cwd = std::env::current_dir().map_err(|e| Failure::fault(format!("no current directory: {e}")))?;
    let port = Port::load(&args.family).map_err(Failure::usage)?;
    let artifact = format!("{}-{}", args.family, args.name);
    let dir = match args.dir {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => cwd.join(dir),
        None => cwd.join(&artifact),
    };
    if dir.exists() {
        return Err(Failure::usage(format!("{} already exists", dir.display())));
    }
    let packages = match &args.sdk_packages {
        Some(packages) if !packages.is_dir() => {
            return Err(Failure::usage(format!(
                "the SDK packages directory {} does not exist",
                packages.display()
            )));
        }
        Some(packages) => Some(cwd.join(packages)),
        None => None,
    };
    let plan = Plan {
        name: &args.name,
        family: &args.family,
        port: &port,
        artifact,
        packages: packages.as_deref(),
    };
    let scaffold = match args.lang {
        Lang::Rust => rust::scaffold(&plan),
        Lang::Ts => ts::scaffold(&plan),
        Lang::Python => python::scaffold(&plan),
        Lang::C => c::scaffold(&plan),
    }
    .map_err(Failure::usage)?;
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
    for package in &scaffold.vendor {
        vendor::add(&dir.join("vendor"), package).map_err(Failure::failed)?;
    }
    println!(
        "created {} ({} plugin, {} port, contract {})",
        dir.display(),
        args.family,
        port.interface,
        crate::contract::version()
    );
    if !scaffold.vendor.is_empty() {
        println!(
            "  SDK:   vendored from {} into vendor/",
            packages.as_deref().unwrap_or(&dir).display()
        );
    }
    println!("  build: cd {} && ./build.sh", dir.display());
    println!("  test:  python3 test/test_plugin.py   (PATCHBAY= the patchbay binary, default: patchbay on PATH)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("acme-cloud") && !valid_name("Acme") && !valid_name("-x") && !valid_name(""));
    }
}
