//! A Python plugin on sdk/python (componentize-py).

use super::port::{pascal, snake};
use super::shared::{python_env, render};
use super::{Plan, SDK_VERSION, Scaffold, Vendor};

/// The port's operations as the methods a class may define, for the docstring.
fn operations(plan: &Plan) -> String {
    let port = plan.port;
    let mut out = String::new();
    for f in &port.functions {
        let mut params = vec!["self".to_string()];
        params.extend(f.params.iter().map(|(name, _)| snake(name)));
        out += &format!("        def {}({})\n", snake(&f.name), params.join(", "));
    }
    out.trim_end().to_string()
}

const PYPROJECT: &str = include_str!("../../templates/python/pyproject.toml");

const APP: &str = include_str!("../../templates/python/app.py");

pub(crate) fn scaffold(plan: &Plan) -> Result<Scaffold, String> {
    let operations = operations(plan);
    let class = pascal(&plan.port.interface);
    let extra = [("operations", operations.as_str()), ("class", class.as_str())];
    let wheel = format!("patchbay_sdk-{SDK_VERSION}-py3-none-any.whl");
    let (requirement, vendor) = match plan.package("python", &wheel)? {
        Some(path) => (format!("./vendor/{wheel}"), vec![Vendor::Copy(path)]),
        None => (format!("patchbay-sdk=={SDK_VERSION}"), Vec::new()),
    };
    Ok(Scaffold {
        files: vec![
            ("pyproject.toml".into(), render(PYPROJECT, plan, &[])),
            ("src/app.py".into(), render(APP, plan, &extra)),
            (
                "requirements.txt".into(),
                format!("# The Patchbay SDK and its build (componentize-py comes with it).\n{requirement}\n"),
            ),
            (".gitignore".into(), "generated/\ndist/\n__pycache__/\n.venv/\n".into()),
        ],
        vendor,
        build: format!("{}\n\"$PYTHON\" -m patchbay_build .", python_env("requirements.txt")),
        language: "Python",
        sdk_doc: "the `patchbay-sdk` Python package",
    })
}
