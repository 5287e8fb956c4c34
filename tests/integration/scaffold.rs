//! `patchbay new`: for each language, a new plugin builds and passes its own
//! test (the generated `test/test_plugin.py`, which runs the component through
//! the host against the generated provider stub). Needs the toolchains that
//! `just build-plugins` installs (npm packages, target/venv-plugins,
//! patchbay-c).

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

/// Creates, builds and tests `<family>-<name>` in `lang` under target/scaffold-test.
fn new_plugin_builds_and_passes_its_test(lang: &str, family: &str) {
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
    run(
        "build.sh",
        Command::new(dir.join("build.sh"))
            .env("PYTHON", &python)
            .env("CARGO_TARGET_DIR", root.join("target/scaffold-guests"))
            .env("PATCHBAY_C_TOOL", patchbay().with_file_name("patchbay-c")),
    );
    assert!(Path::new(&dir.join(format!("dist/{family}-acme-cloud.wasm"))).is_file());
    run(
        "test/test_plugin.py",
        Command::new("python3")
            .arg(dir.join("test/test_plugin.py"))
            .env("PATCHBAY", patchbay())
            .env("PATCHBAY_CACHE", root.join("target/scaffold-test/cache")),
    );
}

#[test]
fn a_new_rust_plugin_builds_and_passes_its_test() {
    new_plugin_builds_and_passes_its_test("rust", "shop");
}

#[test]
fn a_new_typescript_plugin_builds_and_passes_its_test() {
    new_plugin_builds_and_passes_its_test("ts", "messaging");
}

#[test]
fn a_new_python_plugin_builds_and_passes_its_test() {
    new_plugin_builds_and_passes_its_test("python", "llm");
}

#[test]
fn a_new_c_plugin_builds_and_passes_its_test() {
    new_plugin_builds_and_passes_its_test("c", "courier");
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
