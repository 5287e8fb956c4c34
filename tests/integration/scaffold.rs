//! `patchbay new` outside the checkout, as a third party would use it: a
//! temporary directory holds only a copy of the `patchbay` binary and the SDK
//! packages (`just package-sdks`, target/sdk-packages). There, for each
//! language, a new plugin builds with its own toolchain (cargo, npm, pip)
//! and passes its own test (the generated `test/test_plugin.py`, which runs
//! the component through the host against the generated provider stub, and
//! checks that an operation not written yet answers `unsupported`), and
//! `patchbay inspect` shows it. In TypeScript and Python, an operation that
//! throws something other than a connector error (a bug) reports
//! `permanent`. A plugin built with an SDK whose contract the host does not
//! serve is refused at load, naming both versions.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli::patchbay;
use crate::support::workspace;

fn run(step: &str, command: &mut Command) {
    let output = command.output().unwrap_or_else(|e| panic!("{step}: {e}"));
    assert!(
        output.status.success(),
        "{step} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// An operation added to a new plugin before it is built: (file, text to
/// replace, replacement, the operation, its JSON input).
type Throwing = (&'static str, &'static str, &'static str, &'static str, &'static str);

/// A directory outside the checkout with `bin/patchbay` and `packages/`
/// (copies), and the PATH that finds that binary first.
struct Outside {
    dir: tempfile::TempDir,
    path: std::ffi::OsString,
}

impl Outside {
    fn new() -> Self {
        let root = workspace();
        let packages = root.join("target/sdk-packages");
        assert!(
            packages.join("c").is_dir(),
            "run `just package-sdks` first: it writes target/sdk-packages"
        );
        let dir = tempfile::Builder::new().prefix("patchbay-outside-").tempdir().unwrap();
        assert!(!dir.path().starts_with(&root), "the test runs outside the checkout");
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::fs::copy(patchbay(), dir.path().join("bin/patchbay")).unwrap();
        run(
            "copy the packages",
            Command::new("cp")
                .arg("-r")
                .arg(&packages)
                .arg(dir.path().join("packages")),
        );
        let path = std::env::join_paths(
            std::iter::once(dir.path().join("bin"))
                .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
        )
        .unwrap();
        Self { dir, path }
    }

    fn patchbay(&self) -> PathBuf {
        self.dir.path().join("bin/patchbay")
    }

    /// A command run in the directory, with its `patchbay` first on PATH.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(self.dir.path())
            .env("PATH", &self.path)
            .env("PATCHBAY", self.patchbay())
            .env_remove("PYTHON")
            .env_remove("PATCHBAY_SDK_PACKAGES");
        command
    }

    /// `build.sh` of a plugin; Rust plugins share one cargo target directory
    /// (a build cache) so that each test does not rebuild the SDK's
    /// dependencies.
    fn build(&self, plugin: &Path) -> Command {
        let mut command = self.command(plugin.join("build.sh"));
        command.env("CARGO_TARGET_DIR", workspace().join("target/scaffold-guests"));
        command
    }
}

/// Creates, builds and tests `<family>-acme-cloud` in `lang` outside the checkout.
fn new_plugin_builds_and_passes_its_test(lang: &str, family: &str, throwing: Option<Throwing>) -> (Outside, PathBuf) {
    let outside = Outside::new();
    run(
        "patchbay new",
        outside.command(outside.patchbay()).args([
            "new",
            "acme-cloud",
            "--family",
            family,
            "--lang",
            lang,
            "--sdk-packages",
            "packages",
        ]),
    );
    let dir = outside.dir.path().join(format!("{family}-acme-cloud"));
    for file in ["README.md", "build.sh", "test/mock_server.py", "test/test_plugin.py"] {
        assert!(dir.join(file).is_file(), "{lang}: {file} is missing");
    }
    assert!(dir.join("vendor").is_dir(), "{lang}: the SDK packages are vendored");
    let refused = outside
        .command(outside.patchbay())
        .args([
            "new",
            "acme-cloud",
            "--family",
            family,
            "--lang",
            lang,
            "--sdk-packages",
            "packages",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "an existing directory is never overwritten");
    if let Some((file, anchor, replacement, ..)) = throwing {
        let path = dir.join(file);
        let source = std::fs::read_to_string(&path).unwrap();
        assert!(source.contains(anchor), "{lang}: {file} has {anchor:?}");
        std::fs::write(&path, source.replace(anchor, replacement)).unwrap();
    }
    run("build.sh", &mut outside.build(&dir));
    let wasm = dir.join(format!("dist/{family}-acme-cloud.wasm"));
    assert!(wasm.is_file());
    a_manifest_mistake_fails_the_build(lang, family, &outside, &dir);
    run(
        "test/test_plugin.py",
        outside
            .command("python3")
            .arg(dir.join("test/test_plugin.py"))
            .env("PATCHBAY_CACHE", outside.dir.path().join("cache")),
    );
    let inspect = outside
        .command(outside.patchbay())
        .arg("inspect")
        .arg(&wasm)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&inspect.stdout);
    assert!(
        inspect.status.success(),
        "{lang}: inspect: {}",
        String::from_utf8_lossy(&inspect.stderr)
    );
    assert!(
        shown.contains("acme-cloud") && shown.contains(family),
        "{lang}: inspect shows the plugin:\n{shown}"
    );
    if let Some((.., operation, input)) = throwing {
        let state = outside.dir.path().join("state");
        let output = outside
            .command(outside.patchbay())
            .args([
                "call",
                &format!("{family}/acme-cloud"),
                operation,
                "--json",
                input,
                "--json-errors",
            ])
            .arg("--plugins")
            .arg(dir.join("dist"))
            .args(["--credential", "api_key=k", "--setting", "base_url=http://127.0.0.1:9"])
            .env("PATCHBAY_DATABASE", state.join("state.db"))
            .env("PATCHBAY_VAULT_KEY_FILE", state.join("vault.key"))
            .env("PATCHBAY_CACHE", outside.dir.path().join("cache"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let error: serde_json::Value = serde_json::from_str(stderr.trim())
            .unwrap_or_else(|e| panic!("{lang}: {operation}: not a JSON error ({e}): {stderr}"));
        assert_eq!(
            error["error"]["permanent"]["status"],
            serde_json::Value::Null,
            "{lang}: {error}"
        );
        assert!(
            error["error"]["permanent"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(&format!("the plugin failed in {operation}")) && m.contains("boom")),
            "{lang}: a thrown exception is a permanent error naming the operation: {error}"
        );
    }
    (outside, dir)
}

/// A mistake in patchbay.toml stops the build with a message naming the
/// file and the key; the good file builds again.
fn a_manifest_mistake_fails_the_build(lang: &str, family: &str, outside: &Outside, dir: &Path) {
    let manifest = dir.join("patchbay.toml");
    let good = std::fs::read_to_string(&manifest).unwrap();
    let bad = good.replace("type = \"url\"", "type = \"uri\"");
    assert_ne!(good, bad, "{lang}: the scaffold's base_url setting is a url");
    std::fs::write(&manifest, bad).unwrap();
    let output = outside.build(dir).output().unwrap();
    std::fs::write(&manifest, good).unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.status.success(), "{lang}: a bad manifest built");
    assert!(
        printed.contains(
            "patchbay.toml: settings.base_url.type: \"uri\" is not one of: text, number, boolean, url, choice"
        ),
        "{lang} ({family}): the build names the file, the key and the problem:\n{printed}"
    );
}

#[test]
fn a_new_rust_plugin_builds_and_passes_its_test() {
    new_plugin_builds_and_passes_its_test("rust", "shop", None);
}

#[test]
fn a_new_typescript_plugin_builds_and_passes_its_test() {
    new_plugin_builds_and_passes_its_test(
        "ts",
        "storage",
        Some((
            "src/plugin.ts",
            "export const storage = {};",
            "export const storage = {\n  delete(name: string): never {\n    throw new TypeError(`boom: ${name}`);\n  },\n};",
            "storage.delete",
            r#"{"name": "a.txt"}"#,
        )),
    );
}

#[test]
fn a_new_python_plugin_builds_and_passes_its_test() {
    let (outside, dir) = new_plugin_builds_and_passes_its_test(
        "python",
        "payment",
        Some((
            "src/app.py",
            "class Payment:\n",
            "class Payment:\n    def capture_payment(self, payment_id):\n        raise KeyError(f\"boom: {payment_id}\")\n\n",
            "payment.capture-payment",
            r#"{"payment-id": "p1"}"#,
        )),
    );
    an_sdk_for_another_contract_is_refused_at_load(&outside, &dir);
}

/// The packaged Python SDK, installed in the plugin's .venv, edited to
/// build against contract 0.9.0: the plugin builds, and the host refuses it
/// at load, naming the plugin's version and the ones it serves.
fn an_sdk_for_another_contract_is_refused_at_load(outside: &Outside, dir: &Path) {
    let wit = outside.dir.path().join("contract");
    let written = outside
        .command(outside.patchbay())
        .arg("wit")
        .arg("--out")
        .arg(&wit)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&written.stdout);
    let version = said
        .split("patchbay:connector@")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("patchbay wit names the contract: {said}"))
        .to_string();
    assert!(wit.join("worlds.wit").is_file(), "patchbay wit writes the files");
    let site = std::fs::read_dir(dir.join(".venv/lib"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("site-packages");
    let mut edited = 0;
    for entry in std::fs::read_dir(site.join("patchbay_build/wit")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        edited += text.matches(&format!("@{version}")).count();
        std::fs::write(&path, text.replace(&format!("@{version}"), "@0.9.0")).unwrap();
    }
    assert!(edited > 0, "the packaged SDK carries contract {version}");
    let init = site.join("patchbay_sdk/__init__.py");
    let text = std::fs::read_to_string(&init).unwrap();
    std::fs::write(
        &init,
        text.replace(
            &format!("CONTRACT_VERSION = \"{version}\""),
            "CONTRACT_VERSION = \"0.9.0\"",
        ),
    )
    .unwrap();
    run("build.sh (contract 0.9.0)", &mut outside.build(dir));
    let wasm = dir.join("dist/payment-acme-cloud.wasm");
    let inspect = outside
        .command(outside.patchbay())
        .arg("inspect")
        .arg(&wasm)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&inspect.stderr);
    assert!(!inspect.status.success(), "a plugin for contract 0.9.0 is refused");
    assert!(
        stderr.contains("targets contract version 0.9.0; this host serves") && stderr.contains(&version),
        "the refusal names both versions: {stderr}"
    );
}

#[test]
fn a_new_c_plugin_builds_and_passes_its_test() {
    new_plugin_builds_and_passes_its_test("c", "courier", None);
}

#[test]
fn unknown_families_and_bad_names_are_refused() {
    let root = workspace();
    for (name, family, lang, expected) in [
        ("acme", "bakery", "rust", "unknown family \"bakery\""),
        ("Acme", "shop", "rust", "must be 1-64 characters"),
        ("acme", "courier", "c", "the C SDK is a source tarball"),
    ] {
        let output = Command::new(patchbay())
            .args([
                "new",
                name,
                "--family",
                family,
                "--lang",
                lang,
                "--dir",
                "target/scaffold-test/refused",
            ])
            .current_dir(&root)
            .env_remove("PATCHBAY_SDK_PACKAGES")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
}
