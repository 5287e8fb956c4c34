//! A C plugin on sdk/c (wit-bindgen c bindings, zig). Signatures follow
//! wit-bindgen c's rules for exports: strings, records, variants and lists by
//! pointer, enums and numbers by value, `option<T>` as a nullable `T *maybe_`,
//! a `result` as a `ret` pointer plus an `err` pointer and a `bool`.

use wit_parser::{Type, TypeDefKind};

use super::port::{Function, Port, Returns, snake};
use super::shared::{python_env, render};
use super::{Plan, SDK_VERSION, Scaffold, Vendor};

/// The C type of a value, and whether it is passed by value.
fn c_type(port: &Port, ty: &Type) -> (String, bool) {
    let prefix = format!("exports_patchbay_connector_{}", snake(&port.interface));
    match ty {
        Type::Bool => ("bool".into(), true),
        Type::U8 => ("uint8_t".into(), true),
        Type::U16 => ("uint16_t".into(), true),
        Type::U32 => ("uint32_t".into(), true),
        Type::U64 => ("uint64_t".into(), true),
        Type::S8 => ("int8_t".into(), true),
        Type::S16 => ("int16_t".into(), true),
        Type::S32 => ("int32_t".into(), true),
        Type::S64 => ("int64_t".into(), true),
        Type::F32 => ("float".into(), true),
        Type::F64 => ("double".into(), true),
        Type::Char => ("uint32_t".into(), true),
        Type::String => ("plugin_string_t".into(), false),
        // A resource handle is a small value: `own` or `borrow` by name.
        Type::Id(_) if port.resource(ty).is_some() => {
            let (name, borrowed) = port.resource(ty).expect("matched a resource");
            let how = if borrowed { "borrow" } else { "own" };
            (format!("{prefix}_{how}_{}_t", snake(name)), true)
        }
        Type::Id(id) => match (port.name(*id), port.kind(*id)) {
            (Some(name), _) => (format!("{prefix}_{}_t", snake(name)), is_enum(port, *id)),
            (None, TypeDefKind::List(inner)) => (
                match inner {
                    Type::Id(inner_id) => format!("{prefix}_list_{}_t", snake(port.name(*inner_id).unwrap_or("value"))),
                    Type::String => "plugin_list_string_t".into(),
                    Type::U8 => "plugin_list_u8_t".into(),
                    other => format!("plugin_list_{}_t", c_type(port, other).0.trim_end_matches("_t")),
                },
                false,
            ),
            (None, other) => unreachable!("the contract's ports use no anonymous {other:?}"),
        },
        other => unreachable!("the contract's ports use no {other:?}"),
    }
}

/// Whether a named type is an enum, following `use` aliases.
fn is_enum(port: &Port, id: wit_parser::TypeId) -> bool {
    match port.kind(id) {
        TypeDefKind::Enum(_) => true,
        TypeDefKind::Type(Type::Id(inner)) => is_enum(port, *inner),
        _ => false,
    }
}

/// How a C export returns.
pub(crate) enum CReturn {
    /// `bool`, with `ret` (when there is a value) and `err` pointers.
    Fallible,
    /// `void`, with a `ret` pointer to fill.
    Value,
    Nothing,
}

/// An export's C prototype (without `;`), the names of its parameters, and
/// how it returns.
pub(crate) fn signature(port: &Port, f: &Function) -> (String, Vec<String>, CReturn) {
    let mut params = Vec::new();
    let mut names = Vec::new();
    for (name, ty) in &f.params {
        let name = snake(name);
        let option = match ty {
            Type::Id(id) if port.name(*id).is_none() => match port.kind(*id) {
                TypeDefKind::Option(inner) => Some(*inner),
                _ => None,
            },
            _ => None,
        };
        match option {
            Some(inner) => params.push(format!("{} *maybe_{name}", c_type(port, &inner).0)),
            None => {
                let (c, by_value) = c_type(port, ty);
                params.push(if by_value {
                    format!("{c} {name}")
                } else {
                    format!("{c} *{name}")
                });
            }
        }
        names.push(if option.is_some() {
            format!("maybe_{name}")
        } else {
            name
        });
    }
    let error = format!(
        "exports_patchbay_connector_{}_connector_error_t",
        snake(&port.interface)
    );
    let function = format!(
        "exports_patchbay_connector_{}_{}",
        snake(&port.interface),
        snake(&f.name)
    );
    let (ret, how) = match port.returns(f) {
        Returns::Fallible(ok) => {
            if let Some(ok) = ok {
                params.push(format!("{} *ret", c_type(port, ok).0));
                names.push("ret".into());
            }
            params.push(format!("{error} *err"));
            names.push("err".into());
            ("bool", CReturn::Fallible)
        }
        Returns::Value(ty) => {
            params.push(format!("{} *ret", c_type(port, ty).0));
            names.push("ret".into());
            ("void", CReturn::Value)
        }
        Returns::Nothing => ("void", CReturn::Nothing),
    };
    let params = if params.is_empty() {
        "void".to_string()
    } else {
        params.join(", ")
    };
    (format!("{ret} {function}({params})"), names, how)
}

/// The port's operations as C prototypes, for the scaffold's comment.
fn operations(plan: &Plan) -> String {
    plan.port
        .functions
        .iter()
        .map(|f| format!("//   {};\n", signature(plan.port, f).0))
        .collect::<String>()
        .trim_end()
        .to_string()
}

const PLUGIN_C: &str = include_str!("../../templates/c/plugin.c");

pub(crate) fn scaffold(plan: &Plan) -> Result<Scaffold, String> {
    let operations = operations(plan);
    let extra = [("operations", operations.as_str())];
    let tarball = format!("patchbay-c-sdk-{SDK_VERSION}.tar.gz");
    let package = plan.package("c", &tarball)?.ok_or_else(|| {
        format!(
            "the C SDK is a source tarball ({tarball}), not a registry package: pass --sdk-packages DIR \
             (or set PATCHBAY_SDK_PACKAGES) to a directory with c/{tarball} in it"
        )
    })?;
    let sdk = format!("vendor/patchbay-c-sdk-{SDK_VERSION}");
    Ok(Scaffold {
        files: vec![
            ("src/plugin.c".into(), render(PLUGIN_C, plan, &extra)),
            (".gitignore".into(), "generated/\ndist/\n.venv/\n".into()),
        ],
        vendor: vec![Vendor::Unpack(package)],
        build: format!(
            "{}\n# The bindings and the componentization are `patchbay c` commands: PATCHBAY names the binary\n\
             # (default: patchbay on PATH).\n\"$PYTHON\" {sdk}/build.py .",
            python_env(&format!("{sdk}/requirements.txt"))
        ),
        language: "C",
        sdk_doc: "the C SDK's source tarball (unpacked in vendor/)",
    })
}
