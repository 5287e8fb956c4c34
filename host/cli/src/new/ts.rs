//! A TypeScript plugin on sdk/js (componentize-js).

use super::port::{Returns, camel};
use super::shared::render;
use super::{Plan, Scaffold};

fn operations(plan: &Plan) -> String {
    let port = plan.port;
    let mut out = String::new();
    for f in &port.functions {
        let params: Vec<String> = f
            .params
            .iter()
            .map(|(name, _)| format!("_{}: unknown", camel(name)))
            .collect();
        let (ret, body) = match port.returns(f) {
            Returns::Fallible(_) => (
                "never",
                format!(
                    "throw ConnectorError.unsupported(\"{}.{} is not implemented yet\");",
                    port.interface, f.name
                ),
            ),
            Returns::Value(_) => ("never[]", "return [];".to_string()),
            Returns::Nothing => ("void", "return;".to_string()),
        };
        out += &format!(
            "  {}({}): {ret} {{\n    {body}\n  }},\n",
            camel(&f.name),
            params.join(", ")
        );
    }
    out.trim_end().to_string()
}

const PACKAGE: &str = r#"{
  "name": "@artifact@",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "description": "Patchbay @family@ plugin for @display@, in TypeScript.",
  "patchbay": {
    "world": "@world@",
    "entry": "src/plugin.ts",
    "out": "dist/@artifact@.wasm"
  },
  "scripts": {
    "build": "patchbay-js build"
  },
  "devDependencies": {
    "@patchbay/sdk": "file:@root@/sdk/js",
    "@bytecodealliance/componentize-js": "0.23.0",
    "@bytecodealliance/jco": "1.35.0",
    "esbuild": "0.25.0",
    "typescript": "5.9.3"
  },
  "overrides": {
    "@bytecodealliance/preview2-shim": "0.25.0"
  }
}
"#;

const TSCONFIG: &str = r#"{
  "compilerOptions": {
    "target": "ES2022",
    "module": "ES2022",
    "moduleResolution": "bundler",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": true,
    "types": []
  },
  "include": ["src", "generated"]
}
"#;

const PLUGIN: &str = r#"// @display@: a Patchbay @family@ plugin.

import { CONTRACT_VERSION, ConnectorError, auth, config, guard, request } from "@patchbay/sdk";
import type { PluginManifest } from "patchbay:connector/connector@0.1.0";
import type { ConnectionTest } from "patchbay:connector/types@0.1.0";

export const connector = {
  manifest(): PluginManifest {
    return {
      name: "@name@",
      family: "@family_tag@",
      displayName: "@display@",
      description: "A Patchbay @family@ adapter for @display@.",
      version: "0.1.0",
      contractVersion: CONTRACT_VERSION,
      credentials: [
        {
          name: "api_key",
          label: "API key",
          secret: true,
          required: true,
          default: undefined,
          choices: [],
          help: "Sent by the host as a bearer token; the plugin never sees it.",
        },
      ],
      settings: [
        {
          name: "base_url",
          label: "API base URL",
          type: "url",
          required: true,
          default: undefined,
          choices: [],
          help: "The provider's API; the only host the plugin may reach.",
        },
      ],
      auth: { strategy: "bearer", oauth2: undefined },
      allowedHosts: ["{{setting.base_url}}"],
      rateLimit: { requestsPerSecond: 5, burst: 10 },
      retry: { maxRetries: 3, retryableStatuses: new Uint16Array([429, 500, 502, 503, 504]) },
      webhooks: undefined,
    };
  },

  testConnection(): ConnectionTest {
    return guard(() => {
      const base = config.require("base_url").replace(/\/+$/, "");
      const response = request("GET", `${base}/health`, { auth: auth.bearer("api_key") });
      try {
        response.errorForStatus();
      } catch (error) {
        if (error instanceof ConnectorError && error.payload.tag === "auth") {
          return { success: false, message: `@display@ refused the API key: ${error.payload.val}`, details: "{}" };
        }
        throw error;
      }
      return { success: true, message: `Connected to ${base}`, details: response.text() };
    });
  },
};

export const @port_camel@ = {
@operations@
};
"#;

pub(crate) fn scaffold(plan: &Plan) -> Scaffold {
    let operations = operations(plan);
    let family_tag = plan.family.to_string();
    let port_camel = camel(&plan.port.interface);
    let extra = [
        ("operations", operations.as_str()),
        ("family_tag", family_tag.as_str()),
        ("port_camel", port_camel.as_str()),
    ];
    Scaffold {
        files: vec![
            ("package.json".into(), render(PACKAGE, plan, &[])),
            ("tsconfig.json".into(), TSCONFIG.into()),
            ("src/plugin.ts".into(), render(PLUGIN, plan, &extra)),
            (".gitignore".into(), "node_modules/\ngenerated/\ndist/\n".into()),
        ],
        build: "npm install --no-audit --no-fund --loglevel=error\nnpx --no-install patchbay-js build".into(),
        language: "TypeScript",
        sdk_doc: "sdk/js/README.md",
    }
}
