"""The C a C plugin does not write (generated/patchbay_main.c): its
manifest from ``patchbay.toml``, and a weak default for every operation of
the world's interfaces that answers ``unsupported`` (a list-returning one,
an empty list). The plugin's own definitions override the defaults at link
time; ``connector.test-connection`` has none and must be written."""

from . import contract

PREFIX = "EXPORTS_PATCHBAY_CONNECTOR_CONNECTOR_"


def c_string(text: str) -> str:
    """A C string literal of ``text`` (UTF-8; anything unusual as octal escapes)."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        if 0x20 <= byte < 0x7F and char not in '"\\?':
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def constant(kind: str, value: str) -> str:
    return PREFIX + kind + "_" + value.upper().replace("-", "_")


def _strings(target: str, items: list, lines: list) -> None:
    if not items:
        return
    lines.append(f"  {target}.len = {len(items)};")
    lines.append(f"  {target}.ptr = calloc({len(items)}, sizeof(*{target}.ptr));")
    for i, item in enumerate(items):
        lines.append(f"  {target}.ptr[{i}] = pb_str({c_string(item)});")


def _option_string(target: str, value, lines: list) -> None:
    if value is not None:
        lines.append(f"  {target}.is_some = true;")
        lines.append(f"  {target}.val = pb_str({c_string(value)});")


def manifest_function(m: dict) -> str:
    lines = [
        "void exports_patchbay_connector_connector_manifest(exports_patchbay_connector_connector_plugin_manifest_t *ret) {",
        "  memset(ret, 0, sizeof(*ret));",
        f"  ret->name = pb_str({c_string(m['name'])});",
        f"  ret->family = {constant('FAMILY', m['family'])};",
        f"  ret->display_name = pb_str({c_string(m['display-name'])});",
        f"  ret->description = pb_str({c_string(m['description'])});",
        f"  ret->version = pb_str({c_string(m['version'])});",
        "  ret->contract_version = pb_str(PATCHBAY_CONTRACT_VERSION);",
    ]
    for key, target in (("credentials", "ret->credentials"), ("settings", "ret->settings")):
        fields = m[key]
        if not fields:
            continue
        lines.append(f"  {target}.len = {len(fields)};")
        lines.append(f"  {target}.ptr = calloc({len(fields)}, sizeof(*{target}.ptr));")
        for i, f in enumerate(fields):
            at = f"{target}.ptr[{i}]"
            lines.append(f"  {at}.name = pb_str({c_string(f['name'])});")
            lines.append(f"  {at}.label = pb_str({c_string(f['label'])});")
            if key == "credentials":
                lines.append(f"  {at}.secret = {'true' if f['secret'] else 'false'};")
            else:
                lines.append(f"  {at}.type = {constant('SETTING_TYPE', f['type'])};")
            lines.append(f"  {at}.required = {'true' if f['required'] else 'false'};")
            _option_string(f"{at}.default_", f["default"], lines)
            _strings(f"{at}.choices", f["choices"], lines)
            lines.append(f"  {at}.help = pb_str({c_string(f['help'])});")
    lines.append(f"  ret->auth.strategy = {constant('AUTH_STRATEGY', m['auth']['strategy'])};")
    oauth2 = m["auth"]["oauth2"]
    if oauth2 is not None:
        at = "ret->auth.oauth2.val"
        lines.append("  ret->auth.oauth2.is_some = true;")
        _option_string(f"{at}.authorize_url", oauth2["authorize-url"], lines)
        lines.append(f"  {at}.token_url = pb_str({c_string(oauth2['token-url'])});")
        _strings(f"{at}.scopes", oauth2["scopes"], lines)
        lines.append(f"  {at}.pkce = {'true' if oauth2['pkce'] else 'false'};")
        lines.append(f"  {at}.client_auth = {constant('CLIENT_AUTH_STYLE', oauth2['client-auth'])};")
        flows = oauth2["flows"]
        lines.append(f"  {at}.flows.len = {len(flows)};")
        lines.append(f"  {at}.flows.ptr = calloc({len(flows)}, sizeof(*{at}.flows.ptr));")
        for i, flow in enumerate(flows):
            lines.append(f"  {at}.flows.ptr[{i}] = {constant('OAUTH2_FLOW', flow)};")
        lines.append(f"  {at}.client_id_field = pb_str({c_string(oauth2['client-id-field'])});")
        lines.append(f"  {at}.client_secret_field = pb_str({c_string(oauth2['client-secret-field'])});")
    _strings("ret->allowed_hosts", m["allowed-hosts"], lines)
    if m["rate-limit"] is not None:
        lines.append("  ret->rate_limit.is_some = true;")
        lines.append(f"  ret->rate_limit.val.requests_per_second = {float(m['rate-limit']['requests-per-second'])!r};")
        lines.append(f"  ret->rate_limit.val.burst = {m['rate-limit']['burst']};")
    statuses = m["retry"]["retryable-statuses"]
    lines.append("  ret->retry.is_some = true;")
    lines.append(f"  ret->retry.val.max_retries = {m['retry']['max-retries']};")
    if statuses:
        lines.append(f"  ret->retry.val.retryable_statuses.len = {len(statuses)};")
        lines.append(f"  ret->retry.val.retryable_statuses.ptr = calloc({len(statuses)}, sizeof(uint16_t));")
        for i, status in enumerate(statuses):
            lines.append(f"  ret->retry.val.retryable_statuses.ptr[{i}] = {status};")
    if m["webhooks"] is not None:
        w = m["webhooks"]
        lines.append("  ret->webhooks.is_some = true;")
        lines.append(f"  ret->webhooks.val.signature_scheme = pb_str({c_string(w['signature-scheme'])});")
        lines.append(f"  ret->webhooks.val.signature_header = pb_str({c_string(w['signature-header'])});")
        _strings("ret->webhooks.val.events", w["events"], lines)
    lines.append("}")
    return "\n".join(lines)


def defaults(interfaces: list) -> str:
    ports = contract.ports()
    out = []
    for interface in interfaces:
        if interface == "connector":
            continue
        for f in ports[interface]["functions"]:
            prototype = f["c"]
            params = prototype[prototype.index("(") + 1:-1]
            names = [] if params == "void" else [p.strip().split()[-1].lstrip("*") for p in params.split(",")]
            casts = "".join(f"  (void){n};\n" for n in names if n not in ("err", "ret"))
            if f["returns"] == "result":
                ret = "  (void)ret;\n" if "ret" in names else ""
                body = f'{ret}  return pb_unsupported(err, "{interface}.{f["name"]} is not supported by this plugin");'
            elif f["returns"] == "list":
                body = "  memset(ret, 0, sizeof(*ret));"
            else:
                body = ""
            out.append(f"__attribute__((weak)) {prototype} {{\n{casts}{body}\n}}")
    return "\n\n".join(out)


def module(manifest: dict, interfaces: list) -> str:
    return "\n".join([
        "// Generated by sdk/c/build.py from patchbay.toml and the contract; do not edit.",
        "",
        "#include <stdlib.h>",
        "#include <string.h>",
        "",
        '#include "patchbay.h"',
        "",
        manifest_function(manifest),
        "",
        "// Operations the plugin does not define answer `unsupported` (weak",
        "// definitions: the plugin's own win at link time).",
        defaults(interfaces),
        "",
    ])
