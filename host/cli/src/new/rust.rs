//! A Rust plugin: its own crate (own workspace) on the Rust SDK.

use wit_parser::{Type, TypeDefKind};

use super::port::{Port, Returns, pascal, snake};
use super::shared::render;
use super::{Plan, SDK_VERSION, Scaffold, Vendor};

/// The Rust SDK's type for a contract type; named types get `qualify` in
/// front (`$crate::types::` in code generated into the SDK).
pub(crate) fn rust_type(port: &Port, ty: &Type) -> String {
    qualified_type(port, ty, "")
}

pub(crate) fn qualified_type(port: &Port, ty: &Type, qualify: &str) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::U8 => "u8".into(),
        Type::U16 => "u16".into(),
        Type::U32 => "u32".into(),
        Type::U64 => "u64".into(),
        Type::S8 => "i8".into(),
        Type::S16 => "i16".into(),
        Type::S32 => "i32".into(),
        Type::S64 => "i64".into(),
        Type::F32 => "f32".into(),
        Type::F64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "String".into(),
        // A resource (the blobs of `blob-storage`): by reference when borrowed.
        Type::Id(_) if port.resource(ty).is_some() => {
            let (name, borrowed) = port.resource(ty).expect("matched a resource");
            format!("{}{qualify}{}", if borrowed { "&" } else { "" }, pascal(name))
        }
        Type::Id(id) => match (port.name(*id), port.kind(*id)) {
            (Some(name), _) => format!("{qualify}{}", pascal(name)),
            (None, TypeDefKind::List(inner)) => format!("Vec<{}>", qualified_type(port, inner, qualify)),
            (None, TypeDefKind::Option(inner)) => format!("Option<{}>", qualified_type(port, inner, qualify)),
            (None, TypeDefKind::Tuple(t)) => {
                format!(
                    "({})",
                    t.types
                        .iter()
                        .map(|t| qualified_type(port, t, qualify))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
            (None, other) => unreachable!("the contract's ports use no anonymous {other:?}"),
        },
        other => unreachable!("the contract's ports use no {other:?}"),
    }
}

/// The port's operations with their Rust signatures, as a doc comment.
fn operations(plan: &Plan) -> String {
    let port = plan.port;
    let mut out = String::new();
    for f in &port.functions {
        let params: Vec<String> = f
            .params
            .iter()
            .map(|(name, ty)| format!("{}: {}", snake(name), rust_type(port, ty)))
            .collect();
        let ret = match port.returns(f) {
            Returns::Fallible(ok) => format!(
                " -> Result<{}>",
                ok.map(|t| rust_type(port, t)).unwrap_or_else(|| "()".into())
            ),
            Returns::Value(ty) => format!(" -> {}", rust_type(port, ty)),
            Returns::Nothing => String::new(),
        };
        out += &format!("/// - `fn {}({}){ret}`\n", snake(&f.name), params.join(", "));
    }
    out.trim_end().to_string()
}

const CARGO: &str = include_str!("../../templates/rust/Cargo.toml.in");

const LIB: &str = include_str!("../../templates/rust/lib.rs.in");

const CARGO_CONFIG: &str = include_str!("../../templates/rust/cargo-config.toml.in");

/// The `[patch.crates-io]` table that builds the SDK from `vendor/`, and
/// the packages to unpack there, when a packages directory was given.
fn vendored(plan: &Plan) -> Result<(String, Vec<Vendor>), String> {
    let mut patch = String::new();
    let mut vendor = Vec::new();
    for name in ["patchbay-sdk", "patchbay-sdk-macros"] {
        let file = format!("{name}-{SDK_VERSION}.crate");
        if let Some(path) = plan.package("rust", &file)? {
            if patch.is_empty() {
                patch += "\n# The SDK from vendor/ (unpacked by `patchbay new --sdk-packages`) until it\n# is on crates.io: delete this table and vendor/ to use the published crates.\n[patch.crates-io]\n";
            }
            patch += &format!("{name} = {{ path = \"vendor/{name}-{SDK_VERSION}\" }}\n");
            vendor.push(Vendor::Unpack(path));
        }
    }
    Ok((patch, vendor))
}

pub(crate) fn scaffold(plan: &Plan) -> Result<Scaffold, String> {
    let (patch, vendor) = vendored(plan)?;
    let type_name = pascal(plan.name);
    let family_variant = pascal(plan.family);
    let operations = operations(plan);
    let crate_file = snake(&plan.artifact);
    let extra = [
        ("type", type_name.as_str()),
        ("trait", &pascal(&plan.port.interface)),
        ("family_variant", family_variant.as_str()),
        ("operations", operations.as_str()),
    ];
    Ok(Scaffold {
        files: vec![
            ("Cargo.toml".into(), render(CARGO, plan, &[("patch", &patch)])),
            ("src/lib.rs".into(), render(LIB, plan, &extra)),
            (".gitignore".into(), "/target\n/dist\n".into()),
            (".cargo/config.toml".into(), CARGO_CONFIG.into()),
        ],
        vendor,
        build: format!(
            "rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2\n\
             cargo build --release --target wasm32-wasip2 --quiet\n\
             mkdir -p dist\n\
             cp \"${{CARGO_TARGET_DIR:-target}}/wasm32-wasip2/release/{crate_file}.wasm\" dist/{}.wasm",
            plan.artifact
        ),
        language: "Rust",
        sdk_doc: "the `patchbay-sdk` crate",
    })
}

#[cfg(test)]
mod tests {
    use super::CARGO_CONFIG;

    /// A new Rust plugin is linked as the bundled ones are: the
    /// `[target.wasm32-wasip2]` table of its `.cargo/config.toml` is the
    /// plugins workspace's, word for word.
    #[test]
    fn a_new_plugin_links_as_the_bundled_ones_do() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let workspace =
            std::fs::read_to_string(root.join("plugins/.cargo/config.toml")).expect("plugins/.cargo/config.toml");
        let table = |text: &str| {
            let start = text
                .find("[target.wasm32-wasip2]")
                .expect("a [target.wasm32-wasip2] table");
            text[start..].trim_end().to_string()
        };
        assert_eq!(table(CARGO_CONFIG), table(&workspace));
    }
}
