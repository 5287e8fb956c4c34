//! What every new plugin gets whatever its language: its manifest
//! (`patchbay.toml`), the provider stub, the test that runs the built plugin
//! through the host against it, a README.

use super::Plan;

const MOCK_SERVER: &str = include_str!("../../templates/shared/mock_server.py");

const TEST: &str = include_str!("../../templates/shared/test_plugin.py");

/// The manifest, the same file in every language.
const MANIFEST: &str = include_str!("../../templates/shared/patchbay.toml");

const README: &str = include_str!("../../templates/shared/README.md");

pub(crate) fn render(template: &str, plan: &Plan, extra: &[(&str, &str)]) -> String {
    let mut out = template
        .replace("@artifact@", &plan.artifact)
        .replace("@family@", plan.family)
        .replace("@name@", plan.name)
        .replace("@port@", &plan.port.interface)
        .replace("@world@", &plan.port.world)
        .replace("@display@", &plan.display_name())
        .replace("@sdk_version@", super::SDK_VERSION)
        .replace("@contract@", crate::contract::version());
    for (key, value) in extra {
        out = out.replace(&format!("@{key}@"), value);
    }
    out
}

/// build.sh lines that pick the build's Python: `$PYTHON` if set (with
/// `requirements` installed), else `.venv`, made from `requirements` on the
/// first build and again when the file changes.
pub(crate) fn python_env(requirements: &str) -> String {
    format!(
        "# The build's Python: $PYTHON if set (with {requirements} installed), else .venv, made here.\n\
         if [ -z \"${{PYTHON:-}}\" ]; then\n\
         \x20 if [ ! -f .venv/installed ] || [ {requirements} -nt .venv/installed ]; then\n\
         \x20   echo \"==> installing {requirements} in .venv (pip)\"\n\
         \x20   python3 -m venv .venv && .venv/bin/pip install --quiet --disable-pip-version-check -r {requirements} && touch .venv/installed\n\
         \x20 fi\n\
         \x20 PYTHON=.venv/bin/python\n\
         fi"
    )
}

pub(crate) fn files(plan: &Plan, build: &str, language: &str, sdk_doc: &str) -> Vec<(String, String)> {
    let indented: Vec<String> = build.lines().map(|line| format!("  {line}")).collect();
    let extra = [
        ("build", indented.join("\n").as_str()),
        ("language", language),
        ("sdk_doc", sdk_doc),
    ]
    .map(|(k, v)| (k, v.to_string()));
    let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    vec![
        ("patchbay.toml".into(), render(MANIFEST, plan, &[])),
        ("README.md".into(), render(README, plan, &extra)),
        ("test/mock_server.py".into(), render(MOCK_SERVER, plan, &[])),
        ("test/test_plugin.py".into(), {
            let (operation, input) = plan.port.simple_operation().unwrap_or_default();
            render(
                TEST,
                plan,
                &[("unsupported_operation", &operation), ("unsupported_input", &input)],
            )
        }),
        (
            "build.sh".into(),
            format!(
                "#!/usr/bin/env bash\n# Builds dist/{}.wasm.\nset -euo pipefail\ncd \"$(dirname \"$0\")\"\n{build}\n",
                plan.artifact
            ),
        ),
    ]
}
