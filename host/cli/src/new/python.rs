//! A Python plugin on sdk/python (componentize-py).

use super::port::{pascal, snake};
use super::shared::render;
use super::{Plan, Scaffold};

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

pub(crate) fn scaffold(plan: &Plan) -> Scaffold {
    let operations = operations(plan);
    let class = pascal(&plan.port.interface);
    let extra = [("operations", operations.as_str()), ("class", class.as_str())];
    Scaffold {
        files: vec![
            ("pyproject.toml".into(), render(PYPROJECT, plan, &[])),
            ("src/app.py".into(), render(APP, plan, &extra)),
            (".gitignore".into(), "generated/\ndist/\n__pycache__/\n".into()),
        ],
        build: render(
            "# componentize-py from sdk/python/requirements.txt (PYTHON: an interpreter that has it)\n\"${PYTHON:-python3}\" @root@/sdk/python/build.py .",
            plan,
            &[],
        ),
        language: "Python",
        sdk_doc: "sdk/python/README.md",
    }
}
