// @display@: a Patchbay @family@ plugin. Its manifest is patchbay.toml.

#include <stdlib.h>
#include <string.h>

#include "patchbay.h"

// The provider's API: the base URL from the base_url setting, the api_key
// credential as a bearer token (the host fills it in).
static pb_client_t client(void) {
  pb_client_t api = pb_client("base_url", NULL);
  pb_client_auth(&api, pb_auth_bearer("api_key"));
  return api;
}

bool exports_patchbay_connector_connector_test_connection(exports_patchbay_connector_connector_connection_test_t *ret,
                                                          pb_error_t *err) {
  pb_client_t api = client();
  bool ok = pb_test_connection(&api, "/health", "Connected to @display@", ret, err);
  pb_client_free(&api);
  return ok;
}

// Write the operations @display@ supports; the others answer `unsupported`.
// The port's operations:
@operations@
