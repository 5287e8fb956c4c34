//! A Rust plugin: its own crate (own workspace) on the Rust SDK.

use wit_parser::{Type, TypeDefKind};

use super::port::{Port, Returns, pascal, snake};
use super::shared::render;
use super::{Plan, Scaffold};

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

pub(crate) fn scaffold(plan: &Plan) -> Scaffold {
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
    Scaffold {
        files: vec![
            ("Cargo.toml".into(), render(CARGO, plan, &[])),
            ("src/lib.rs".into(), render(LIB, plan, &extra)),
            (".gitignore".into(), "/target\n/dist\n".into()),
        ],
        build: format!(
            "cargo build --release --target wasm32-wasip2 --quiet\nmkdir -p dist\ncp \"${{CARGO_TARGET_DIR:-target}}/wasm32-wasip2/release/{crate_file}.wasm\" dist/{}.wasm",
            plan.artifact
        ),
        language: "Rust",
        sdk_doc: "sdk/README.md",
    }
}
