//! `patchbay new`: for each language, a new plugin builds and passes its own
//! test (the generated `test/test_plugin.py`, which runs the component through
//! the host against the generated provider stub, and checks that an operation
//! not written yet answers `unsupported`). In TypeScript and Python, an
//! operation that throws something other than a connector error (a bug)
//! reports `permanent`. Needs the toolchains that `just build-plugins`
//! installs (npm packages, target/venv-plugins, patchbay-c).

use std::path::Path;
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

/// Creates, builds and tests `<family>-<name>` in `lang` under target/scaffold-test.
fn new_plugin_builds_and_passes_its_test(lang: &str, family: &str, throwing: Option<Throwing>) {
    let root = workspace();
    let python = root.join("target/venv-plugins/bin/python");
    assert!(
        python.is_file(),
        "run `just build-plugins` first: it installs target/venv-plugins"
    );
    let dir = root.join("target/scaffold-test").join(format!("{lang}-{family}"));
    let _ = std::fs::remove_dir_all(&dir);
    run(
        "patchbay new",
        Command::new(patchbay())
            .args(["new", "acme-cloud", "--family", family, "--lang", lang, "--dir"])
            .arg(&dir)
            .current_dir(&root),
    );
    for file in ["README.md", "build.sh", "test/mock_server.py", "test/test_plugin.py"] {
        assert!(dir.join(file).is_file(), "{lang}: {file} is missing");
    }
    let refused = Command::new(patchbay())
        .args(["new", "acme-cloud", "--family", family, "--lang", lang, "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!refused.status.success(), "an existing directory is never overwritten");
    if let Some((file, anchor, replacement, ..)) = throwing {
        let path = dir.join(file);
        let source = std::fs::read_to_string(&path).unwrap();
        assert!(source.contains(anchor), "{lang}: {file} has {anchor:?}");
        std::fs::write(&path, source.replace(anchor, replacement)).unwrap();
    }
    run(
        "build.sh",
        Command::new(dir.join("build.sh"))
            .env("PYTHON", &python)
            .env("CARGO_TARGET_DIR", root.join("target/scaffold-guests"))
            .env("PATCHBAY_C_TOOL", patchbay().with_file_name("patchbay-c")),
    );
    assert!(Path::new(&dir.join(format!("dist/{family}-acme-cloud.wasm"))).is_file());
    a_manifest_mistake_fails_the_build(lang, family, &dir);
    run(
        "test/test_plugin.py",
        Command::new("python3")
            .arg(dir.join("test/test_plugin.py"))
            .env("PATCHBAY", patchbay())
            .env("PATCHBAY_CACHE", root.join("target/scaffold-test/cache")),
    );
    if let Some((.., operation, input)) = throwing {
        let state = dir.join("state");
        let output = Command::new(patchbay())
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
            .env("PATCHBAY_CACHE", root.join("target/scaffold-test/cache"))
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
}

/// A mistake in patchbay.toml stops the build with a message naming the
/// file and the key; the good file builds again.
fn a_manifest_mistake_fails_the_build(lang: &str, family: &str, dir: &Path) {
    let root = workspace();
    let manifest = dir.join("patchbay.toml");
    let good = std::fs::read_to_string(&manifest).unwrap();
    let bad = good.replace("type = \"url\"", "type = \"uri\"");
    assert_ne!(good, bad, "{lang}: the scaffold's base_url setting is a url");
    std::fs::write(&manifest, bad).unwrap();
    let output = Command::new(dir.join("build.sh"))
        .env("PYTHON", root.join("target/venv-plugins/bin/python"))
        .env("CARGO_TARGET_DIR", root.join("target/scaffold-guests"))
        .env("PATCHBAY_C_TOOL", patchbay().with_file_name("patchbay-c"))
        .output()
        .unwrap();
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
    new_plugin_builds_and_passes_its_test(
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
}

#[test]
fn a_new_c_plugin_builds_and_passes_its_test() {
    new_plugin_builds_and_passes_its_test("c", "courier", None);
}

#[test]
fn unknown_families_and_bad_names_are_refused() {
    let root = workspace();
    for (name, family, expected) in [
        ("acme", "bakery", "unknown family \"bakery\""),
        ("Acme", "shop", "must be 1-64 characters"),
    ] {
        let output = Command::new(patchbay())
            .args([
                "new",
                name,
                "--family",
                family,
                "--lang",
                "rust",
                "--dir",
                "target/scaffold-test/refused",
            ])
            .current_dir(&root)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
}
