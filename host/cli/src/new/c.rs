//! A C plugin on sdk/c (wit-bindgen c bindings, zig). Signatures follow
//! wit-bindgen c's rules for exports: strings, records, variants and lists by
//! pointer, enums and numbers by value, `option<T>` as a nullable `T *maybe_`,
//! a `result` as a `ret` pointer plus an `err` pointer and a `bool`.

use wit_parser::{Type, TypeDefKind};

use super::port::{Port, Returns, snake};
use super::shared::render;
use super::{Plan, Scaffold};

/// The C type of a value, and whether it is passed by value.
fn c_type(port: &Port, ty: &Type) -> (String, bool) {
    let prefix = format!("exports_patchbay_connector_{}", port.interface);
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

fn operations(plan: &Plan) -> String {
    let port = plan.port;
    let mut out = String::new();
    for f in &port.functions {
        let mut params = Vec::new();
        let mut unused = Vec::new();
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
            unused.push(if option.is_some() {
                format!("maybe_{name}")
            } else {
                name
            });
        }
        let error = format!("exports_patchbay_connector_{}_connector_error_t", port.interface);
        let function = format!("exports_patchbay_connector_{}_{}", port.interface, snake(&f.name));
        let (ret, body) = match port.returns(f) {
            Returns::Fallible(ok) => {
                if let Some(ok) = ok {
                    params.push(format!("{} *ret", c_type(port, ok).0));
                    unused.push("ret".into());
                }
                params.push(format!("{error} *err"));
                (
                    "bool",
                    format!(
                        "return pb_unsupported(err, \"{}.{} is not implemented yet\");",
                        port.interface, f.name
                    ),
                )
            }
            Returns::Value(ty) => {
                params.push(format!("{} *ret", c_type(port, ty).0));
                ("void", "memset(ret, 0, sizeof(*ret));".into())
            }
            Returns::Nothing => ("void", String::new()),
        };
        let casts: String = unused.iter().map(|name| format!("  (void){name};\n")).collect();
        let params = if params.is_empty() {
            "void".to_string()
        } else {
            params.join(", ")
        };
        out += &format!("{ret} {function}({params}) {{\n{casts}  {body}\n}}\n\n");
    }
    out.trim_end().to_string() + "\n"
}

const PLUGIN_TOML: &str = r#"# A C plugin: built by @root@/sdk/c/build.py (see build.sh).
world = "@world@"
sources = ["src/plugin.c"]
out = "dist/@artifact@.wasm"
"#;

const PLUGIN_C: &str = r#"// @display@: a Patchbay @family@ plugin.

#include <stdlib.h>
#include <string.h>

#include "patchbay.h"

void exports_patchbay_connector_connector_manifest(exports_patchbay_connector_connector_plugin_manifest_t *ret) {
  memset(ret, 0, sizeof(*ret));
  ret->name = pb_str("@name@");
  ret->family = EXPORTS_PATCHBAY_CONNECTOR_CONNECTOR_FAMILY_@family_upper@;
  ret->display_name = pb_str("@display@");
  ret->description = pb_str("A Patchbay @family@ adapter for @display@.");
  ret->version = pb_str("0.1.0");
  ret->contract_version = pb_str(PATCHBAY_CONTRACT_VERSION);
  ret->credentials.len = 1;
  ret->credentials.ptr = calloc(1, sizeof(*ret->credentials.ptr));
  ret->credentials.ptr[0].name = pb_str("api_key");
  ret->credentials.ptr[0].label = pb_str("API key");
  ret->credentials.ptr[0].secret = true;
  ret->credentials.ptr[0].required = true;
  ret->credentials.ptr[0].help = pb_str("Sent by the host as a bearer token; the plugin never sees it.");
  ret->settings.len = 1;
  ret->settings.ptr = calloc(1, sizeof(*ret->settings.ptr));
  ret->settings.ptr[0].name = pb_str("base_url");
  ret->settings.ptr[0].label = pb_str("API base URL");
  ret->settings.ptr[0].type = EXPORTS_PATCHBAY_CONNECTOR_CONNECTOR_SETTING_TYPE_URL;
  ret->settings.ptr[0].required = true;
  ret->settings.ptr[0].help = pb_str("The provider's API; the only host the plugin may reach.");
  ret->auth.strategy = EXPORTS_PATCHBAY_CONNECTOR_CONNECTOR_AUTH_STRATEGY_BEARER;
  static const char *const hosts[] = {"{{setting.base_url}}", NULL};
  ret->allowed_hosts = pb_str_list(hosts);
  ret->rate_limit.is_some = true;
  ret->rate_limit.val.requests_per_second = 5;
  ret->rate_limit.val.burst = 10;
  ret->retry.is_some = true;
  ret->retry.val.max_retries = 3;
  static const uint16_t retryable[] = {429, 500, 502, 503, 504};
  ret->retry.val.retryable_statuses.len = 5;
  ret->retry.val.retryable_statuses.ptr = malloc(sizeof(retryable));
  memcpy(ret->retry.val.retryable_statuses.ptr, retryable, sizeof(retryable));
}

bool exports_patchbay_connector_connector_test_connection(exports_patchbay_connector_connector_connection_test_t *ret,
                                                          pb_error_t *err) {
  char *base = pb_setting("base_url");
  if (base == NULL) return pb_config_error(err, "the setting base_url is required");
  size_t len = strlen(base);
  while (len > 0 && base[len - 1] == '/') base[--len] = '\0';
  char *url = pb_format("%s/health", base);
  patchbay_connector_http_auth_t bearer = pb_auth_bearer("api_key");
  pb_request_t request = {.method = "GET", .url = url, .auth = &bearer};
  pb_response_t response = {0};
  bool sent = pb_send(&request, &response, err);
  free(url);
  plugin_string_free(&bearer.val.bearer);
  if (!sent) {
    free(base);
    return false;
  }
  bool ok = pb_check_status(&response, err);
  if (ok) {
    char *message = pb_format("Connected to %s", base);
    ret->success = true;
    ret->message = pb_str(message);
    ret->details = pb_str_n(response.body, response.body_len);
    free(message);
  } else if (err->tag == PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_AUTH) {
    char *reason = pb_cstr(&err->val.auth);
    char *message = pb_format("@display@ refused the API key: %s", reason);
    plugin_string_free(&err->val.auth);
    ret->success = false;
    ret->message = pb_str(message);
    ret->details = pb_str("{}");
    free(reason);
    free(message);
    ok = true;
  }
  pb_response_free(&response);
  free(base);
  return ok;
}

// ---- @port@ -----------------------------------------------------------------

@operations@"#;

pub(crate) fn scaffold(plan: &Plan) -> Scaffold {
    let operations = operations(plan);
    let family_upper = plan.family.to_uppercase();
    let extra = [
        ("operations", operations.as_str()),
        ("family_upper", family_upper.as_str()),
    ];
    Scaffold {
        files: vec![
            ("plugin.toml".into(), render(PLUGIN_TOML, plan, &[])),
            ("src/plugin.c".into(), render(PLUGIN_C, plan, &extra)),
            (".gitignore".into(), "generated/\ndist/\n".into()),
        ],
        build: render(
            "# zig from sdk/c/requirements.txt (PYTHON: an interpreter that has it); patchbay-c from\n# `cargo build -p patchbay-c` in the checkout (PATCHBAY_C_TOOL names another)\n\"${PYTHON:-python3}\" @root@/sdk/c/build.py .",
            plan,
            &[],
        ),
        language: "C",
        sdk_doc: "sdk/c/README.md",
    }
}
