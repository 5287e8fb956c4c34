// @display@: a Patchbay @family@ plugin.

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

@operations@