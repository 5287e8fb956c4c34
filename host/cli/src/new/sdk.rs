//! What the SDKs generate from the contract, so that no SDK lists the
//! contract's operations by hand: the Rust SDK's port traits, whose
//! operations answer `unsupported` until a plugin writes them, with the
//! adapters from them to the generated bindings (`sdk/src/ports.rs`), and
//! the operations of every interface for the other languages' build tools
//! (`sdk/ports.json`). A test keeps both in step with `wit/`; run it with
//! `PATCHBAY_BLESS=1` to rewrite them after changing the contract.

use super::c::{CReturn, signature};
use super::port::{Port, Returns, camel, pascal, snake};
use super::rust::qualified_type;

/// The interfaces a plugin may export besides `connector`, in the
/// contract's order, with the world each is tested in.
pub(crate) const EXPORTS: [&str; 22] = [
    "shop",
    "courier",
    "payment",
    "messaging",
    "storage",
    "llm",
    "feed",
    "actions",
    "webhooks",
    "webhook-handshake",
    "oauth",
    "bulk-update",
    "invoice-attachment",
    "product-feed",
    "embedding",
    "transcription",
    "streaming",
    "image-generation",
    "manifest-extension",
    "rate-signals",
    "oauth-callback",
    "blob-storage",
];

/// The Rust SDK's name for an interface's trait.
fn trait_name(interface: &str) -> String {
    match interface {
        "oauth" => "OAuth".into(),
        "oauth-callback" => "OAuthCallback".into(),
        other => pascal(other),
    }
}

fn doc_lines(docs: Option<&str>, indent: &str) -> String {
    docs.map(|d| {
        d.lines()
            .map(|l| format!("{indent}///{}{l}\n", if l.is_empty() { "" } else { " " }))
            .collect()
    })
    .unwrap_or_default()
}

fn load_all() -> Result<Vec<Port>, String> {
    EXPORTS.iter().map(|name| Port::interface(name, "everything")).collect()
}

/// `sdk/src/ports.rs`.
pub(crate) fn rust_ports() -> Result<String, String> {
    let mut out = String::from(
        "// @generated from wit/ by `patchbay-cli`'s test `the_sdk_is_generated_from_the_contract`\n\
         // (PATCHBAY_BLESS=1 rewrites it). Do not edit.\n\
         //! The ports and capabilities a plugin implements. Every operation has a\n\
         //! default that answers `unsupported`, naming the operation; a plugin\n\
         //! writes only what its provider can do.\n\n\
         #![allow(unused_variables)]\n\n\
         use crate::types::*;\n\
         use crate::{Error, Result};\n\n\
         fn unsupported(operation: &str) -> Error {\n    \
             Error::Unsupported(format!(\"{operation} is not supported by this plugin\"))\n\
         }\n",
    );
    for port in load_all()? {
        let name = trait_name(&port.interface);
        out += "\n";
        out += &doc_lines(port.docs.as_deref(), "");
        out += &format!("pub trait {name} {{\n");
        let mut adapter = String::new();
        for f in &port.functions {
            let params: Vec<String> = f
                .params
                .iter()
                .map(|(n, ty)| format!("{}: {}", snake(n), qualified_type(&port, ty, "")))
                .collect();
            let qualified: Vec<String> = f
                .params
                .iter()
                .map(|(n, ty)| format!("{}: {}", snake(n), qualified_type(&port, ty, "$crate::types::")))
                .collect();
            let args: Vec<String> = f.params.iter().map(|(n, _)| snake(n)).collect();
            let (ret, qualified_ret, body) = match port.returns(f) {
                Returns::Fallible(ok) => {
                    let ok_type = |q: &str| ok.map(|t| qualified_type(&port, t, q)).unwrap_or_else(|| "()".into());
                    (
                        format!(" -> Result<{}>", ok_type("")),
                        format!(" -> $crate::Result<{}>", ok_type("$crate::types::")),
                        format!("Err(unsupported(\"{}.{}\"))", port.interface, f.name),
                    )
                }
                // A declaration of a named record has no sensible default:
                // a plugin exporting the interface writes it.
                Returns::Value(ty @ wit_parser::Type::Id(id)) if port.name(*id).is_some() => (
                    format!(" -> {}", qualified_type(&port, ty, "")),
                    format!(" -> {}", qualified_type(&port, ty, "$crate::types::")),
                    String::new(),
                ),
                Returns::Value(ty) => (
                    format!(" -> {}", qualified_type(&port, ty, "")),
                    format!(" -> {}", qualified_type(&port, ty, "$crate::types::")),
                    "Default::default()".into(),
                ),
                Returns::Nothing => (String::new(), String::new(), "{}".into()),
            };
            out += &doc_lines(f.docs.as_deref(), "    ");
            out += &if body.is_empty() {
                format!("    fn {}({}){ret};\n", snake(&f.name), params.join(", "))
            } else {
                format!(
                    "    fn {}({}){ret} {{\n        {body}\n    }}\n",
                    snake(&f.name),
                    params.join(", ")
                )
            };
            adapter += &format!(
                "            fn {fname}({}){qualified_ret} {{\n                $crate::__private::answer(|| <$plugin as $crate::{name}>::{fname}({}))\n            }}\n",
                qualified.join(", "),
                args.join(", "),
                fname = snake(&f.name),
            );
        }
        out += "}\n";
        let module = snake(&port.interface);
        out += &format!(
            "\n#[doc(hidden)]\n#[macro_export]\nmacro_rules! __adapt_{module} {{\n    ($plugin:ident) => {{\n        \
             impl $crate::__private::bindings::{module}::exports::patchbay::connector::{module}::Guest for $plugin {{\n\
             {adapter}        }}\n    }};\n}}\n"
        );
    }
    Ok(out)
}

/// `sdk/ports.json`: each interface's operations, with the names each
/// language's bindings give them and what they return.
pub(crate) fn ports_json() -> Result<String, String> {
    let mut interfaces = serde_json::Map::new();
    for port in load_all()? {
        let functions: Vec<serde_json::Value> = port
            .functions
            .iter()
            .map(|f| {
                let returns = match port.returns(f) {
                    Returns::Fallible(_) => "result",
                    Returns::Value(_) => "list",
                    Returns::Nothing => "nothing",
                };
                let (c, _, c_returns) = signature(&port, f);
                debug_assert!(matches!(
                    (returns, c_returns),
                    ("result", CReturn::Fallible) | ("list", CReturn::Value) | ("nothing", CReturn::Nothing)
                ));
                serde_json::json!({
                    "name": f.name,
                    "camel": camel(&f.name),
                    "snake": snake(&f.name),
                    "params": f.params.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
                    "returns": returns,
                    "c": c,
                })
            })
            .collect();
        interfaces.insert(
            port.interface.clone(),
            serde_json::json!({ "camel": camel(&port.interface), "functions": functions }),
        );
    }
    let mut text = serde_json::to_string_pretty(&serde_json::Value::Object(interfaces))
        .map_err(|e| format!("cannot write ports.json: {e}"))?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// The generated files are what the contract says; `PATCHBAY_BLESS=1`
    /// rewrites them.
    #[test]
    fn the_sdk_is_generated_from_the_contract() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let bless = std::env::var_os("PATCHBAY_BLESS").is_some();
        for (path, generated) in [("sdk/src/ports.rs", rust_ports()), ("sdk/ports.json", ports_json())] {
            let generated = generated.expect("the contract reads");
            let file = root.join(path);
            if bless {
                std::fs::write(&file, &generated).expect("write");
                continue;
            }
            let current = std::fs::read_to_string(&file).unwrap_or_default();
            assert!(
                current == generated,
                "{path} is out of date with wit/: run `PATCHBAY_BLESS=1 cargo test -p patchbay-cli the_sdk_is_generated`"
            );
        }
    }
}
