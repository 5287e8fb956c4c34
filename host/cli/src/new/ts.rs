//! A TypeScript plugin on sdk/js (componentize-js).

use super::port::camel;
use super::shared::render;
use super::{Plan, SDK_VERSION, Scaffold, Vendor};

/// The port's operations as the methods its export object may have, for a comment.
fn operations(plan: &Plan) -> String {
    let port = plan.port;
    let mut out = String::new();
    for f in &port.functions {
        let params: Vec<String> = f.params.iter().map(|(name, _)| camel(name)).collect();
        out += &format!("//   {}({})\n", camel(&f.name), params.join(", "));
    }
    out.trim_end().to_string()
}

const PACKAGE: &str = include_str!("../../templates/ts/package.json");

const TSCONFIG: &str = include_str!("../../templates/ts/tsconfig.json");

const PLUGIN: &str = include_str!("../../templates/ts/plugin.ts");

pub(crate) fn scaffold(plan: &Plan) -> Result<Scaffold, String> {
    let operations = operations(plan);
    let port_camel = camel(&plan.port.interface);
    let extra = [("operations", operations.as_str()), ("port_camel", port_camel.as_str())];
    // `npm pack` names the tarball of @patchbay/sdk `patchbay-sdk-<version>.tgz`.
    let tarball = format!("patchbay-sdk-{SDK_VERSION}.tgz");
    let (dependency, vendor) = match plan.package("js", &tarball)? {
        Some(path) => (format!("file:vendor/{tarball}"), vec![Vendor::Copy(path)]),
        None => (SDK_VERSION.to_string(), Vec::new()),
    };
    Ok(Scaffold {
        files: vec![
            (
                "package.json".into(),
                render(PACKAGE, plan, &[("sdk_dependency", &dependency)]),
            ),
            ("tsconfig.json".into(), TSCONFIG.into()),
            ("src/plugin.ts".into(), render(PLUGIN, plan, &extra)),
            (".gitignore".into(), "node_modules/\ngenerated/\ndist/\n".into()),
        ],
        vendor,
        build: "npm install --no-audit --no-fund --loglevel=error\nnpx --no-install patchbay-js build".into(),
        language: "TypeScript",
        sdk_doc: "the `@patchbay/sdk` npm package",
    })
}
