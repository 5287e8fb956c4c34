//! A Python plugin on sdk/python (componentize-py).

use super::port::{Returns, pascal, snake};
use super::shared::render;
use super::{Plan, Scaffold};

fn operations(plan: &Plan) -> String {
    let port = plan.port;
    let mut out = String::new();
    for f in &port.functions {
        let mut params = vec!["self".to_string()];
        params.extend(f.params.iter().map(|(name, _)| format!("{}: Any", snake(name))));
        let body = match port.returns(f) {
            Returns::Fallible(_) => format!(
                "raise errors.unsupported(\"{}.{} is not implemented yet\")",
                port.interface, f.name
            ),
            Returns::Value(_) => "return []".into(),
            Returns::Nothing => "return None".into(),
        };
        out += &format!(
            "    def {}({}) -> Any:\n        {body}\n\n",
            snake(&f.name),
            params.join(", ")
        );
    }
    out.trim_end().to_string()
}

const PYPROJECT: &str = r#"[project]
name = "@artifact@"
version = "0.1.0"
description = "Patchbay @family@ plugin for @display@, in Python."
requires-python = ">=3.11"

[tool.patchbay]
world = "@world@"
module = "app"
out = "dist/@artifact@.wasm"
"#;

const APP: &str = r#""""@display@: a Patchbay @family@ plugin."""

import json
from typing import Any

from patchbay_sdk import CONTRACT_VERSION, config, errors, http
from wit_world import exports
from wit_world.exports import connector
from wit_world.imports import types


class Connector(exports.Connector):
    def manifest(self) -> connector.PluginManifest:
        return connector.PluginManifest(
            name="@name@",
            family=connector.Family.@family_upper@,
            display_name="@display@",
            description="A Patchbay @family@ adapter for @display@.",
            version="0.1.0",
            contract_version=CONTRACT_VERSION,
            credentials=[
                connector.CredentialField(
                    "api_key", "API key", True, True, None, [],
                    "Sent by the host as a bearer token; the plugin never sees it.",
                )
            ],
            settings=[
                connector.SettingField(
                    "base_url", "API base URL", connector.SettingType.URL, True, None, [],
                    "The provider's API; the only host the plugin may reach.",
                )
            ],
            auth=connector.AuthSpec(connector.AuthStrategy.BEARER, None),
            allowed_hosts=["{{setting.base_url}}"],
            rate_limit=connector.RateLimitHint(5.0, 10),
            retry=connector.RetryHint(3, [429, 500, 502, 503, 504]),
            webhooks=None,
        )

    @errors.guard
    def test_connection(self) -> types.ConnectionTest:
        base = config.require("base_url").rstrip("/")
        response = http.request("GET", f"{base}/health", auth=http.auth.bearer("api_key"))
        try:
            response.error_for_status()
        except errors.ConnectorError as error:
            if errors.kind(error) == "auth":
                return types.ConnectionTest(False, f"@display@ refused the API key: {error.value.value}", "{}")
            raise
        return types.ConnectionTest(True, f"Connected to {base}", json.dumps(response.json()))


class @class@(exports.@class@):
@operations@
"#;

pub(crate) fn scaffold(plan: &Plan) -> Scaffold {
    let operations = operations(plan);
    let family_upper = plan.family.to_uppercase();
    let class = pascal(&plan.port.interface);
    let extra = [
        ("operations", operations.as_str()),
        ("family_upper", family_upper.as_str()),
        ("class", class.as_str()),
    ];
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
