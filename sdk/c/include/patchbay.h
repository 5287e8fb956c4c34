// The Patchbay SDK for C plugins: strings, typed connector errors with the
// shared status mapping, HTTP through the host, and configuration.
//
// Include it after generating the bindings (`plugin.h`, see sdk/c/build.py).
// Values an export returns are freed by the generated post-return functions,
// so every string or list handed back must be heap-allocated: use pb_str(),
// never a string literal through plugin_string_set().

#ifndef PATCHBAY_H
#define PATCHBAY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

#define PATCHBAY_CONTRACT_VERSION "0.1.4"

typedef patchbay_connector_types_connector_error_t pb_error_t;

// ---- strings ---------------------------------------------------------------

// A heap copy of a NUL-terminated string (NULL gives an empty string).
plugin_string_t pb_str(const char *s);
// A heap copy of `len` bytes.
plugin_string_t pb_str_n(const char *s, size_t len);
// A NUL-terminated heap copy of a component string; free() it.
char *pb_cstr(const plugin_string_t *s);
// printf into a heap string; free() it.
char *pb_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// A list of strings copied from a NULL-terminated array.
plugin_list_string_t pb_str_list(const char *const *items);

// ---- errors ----------------------------------------------------------------
// Each fills `err` and returns false, so an export can `return pb_auth(err, ...)`.

bool pb_auth(pb_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool pb_config_error(pb_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool pb_validation(pb_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool pb_not_found(pb_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool pb_unsupported(pb_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool pb_provider(pb_error_t *err, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool pb_permanent(pb_error_t *err, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
// `retry_after` in seconds, or a negative number when unknown.
bool pb_rate_limited(pb_error_t *err, double retry_after);
// The one status table of every Patchbay SDK (sdk/status-cases.json):
// 401/403 auth, 404 not-found, 429 rate-limited, other 4xx permanent, 5xx provider.
bool pb_from_status(pb_error_t *err, int status, const char *message, double retry_after);
// Why the host could not get a response, as every SDK maps it.
bool pb_from_http_error(const patchbay_connector_http_http_error_t *error, pb_error_t *err);
// Whether trying again later may succeed: rate-limited and provider.
bool pb_is_retryable(const pb_error_t *err);

// ---- HTTP through the host -------------------------------------------------

typedef struct {
  uint16_t status;
  // The body, NUL-terminated for convenience (binary bodies use body_len).
  char *body;
  size_t body_len;
  patchbay_connector_http_list_header_t headers;
} pb_response_t;

typedef struct {
  const char *method;        // "GET", "POST", ...
  const char *url;
  const char *content_type;  // sets Content-Type when there is a body
  const char *body;          // may be NULL
  size_t body_len;
  // How the host authenticates (credential field names), or NULL.
  const patchbay_connector_http_auth_t *auth;
  // Makes a POST safe for the host to retry; NULL for none.
  const char *idempotency_key;
} pb_request_t;

// Sends a request; true with `out` filled whatever the status, false with
// `err` filled when the host could not get a response (mapped as the Rust SDK
// maps the host's http-error).
bool pb_send(const pb_request_t *request, pb_response_t *out, pb_error_t *err);
void pb_response_free(pb_response_t *response);
// The first value of a header (case-insensitive), as a heap string, or NULL.
char *pb_header(const pb_response_t *response, const char *name);
// `Retry-After` in seconds, or -1.
double pb_retry_after(const pb_response_t *response);
// The provider's message from common JSON error shapes, else the body's start.
char *pb_error_message(const pb_response_t *response);
// True for 2xx; otherwise fills `err` with pb_from_status and returns false.
bool pb_check_status(const pb_response_t *response, pb_error_t *err);

// Auth helpers: the host fills in the credential named by `field`.
patchbay_connector_http_auth_t pb_auth_bearer(const char *field);
patchbay_connector_http_auth_t pb_auth_header(const char *name, const char *field, const char *prefix);

// ---- a provider's client ---------------------------------------------------
// The base URL, the authentication and the error body of a provider, said
// once. `pb_client_free` releases it.

struct yyjson_doc;

// Reads a provider's error response when its body says more than the status
// (a code meaning bad credentials, a retry delay): fills `err` and returns
// true, or returns false to leave it to the status table.
typedef bool (*pb_error_mapper_t)(const pb_response_t *response, pb_error_t *err);

typedef struct {
  char *base;         // no trailing slash; NULL when the setting is unset
  char *setting;      // the setting the base comes from, for the error
  bool has_auth;
  patchbay_connector_http_auth_t auth;
  pb_error_mapper_t errors;
} pb_client_t;

// A client for the URL in `setting` (a bare host name means HTTPS), else
// `default_base`; either may be NULL.
pb_client_t pb_client(const char *setting, const char *default_base);
// Authenticates every request (pb_auth_bearer, pb_auth_header, ...); the
// client owns `auth`.
void pb_client_auth(pb_client_t *client, patchbay_connector_http_auth_t auth);
void pb_client_free(pb_client_t *client);
// Sends `request` with its url as a path under the base (or a full URL of the
// same API) and the client's auth; a non-2xx response is an error, mapped by
// the client's `errors`, then the status table.
bool pb_client_send(const pb_client_t *client, const pb_request_t *request, pb_response_t *out, pb_error_t *err);
// pb_client_send, then the body parsed as JSON (yyjson_doc_free it); NULL with
// `err` filled on any failure.
struct yyjson_doc *pb_client_json(const pb_client_t *client, const pb_request_t *request, pb_error_t *err);
// The connection check: `GET path`; 2xx is success with `message`, refused
// credentials are success: false with the provider's message, other errors
// stay errors.
bool pb_test_connection(const pb_client_t *client, const char *path, const char *message,
                        exports_patchbay_connector_connector_connection_test_t *ret, pb_error_t *err);

// ---- paging ----------------------------------------------------------------

typedef struct {
  uint32_t number;  // from 1
  uint32_t size;
} pb_page_t;

// The page a query asks for: its cursor (NULL: page 1) and size preference
// (NULL: max_size), at most max_size.
bool pb_page_from_query(const plugin_string_t *cursor, const uint32_t *limit, uint32_t max_size, pb_page_t *out,
                        pb_error_t *err);
// The next cursor of a page with `count` items, from the provider's total
// pages or total (negative: unknown; then a full page means more).
void pb_page_next(const pb_page_t *page, size_t count, int64_t total, int64_t total_pages,
                  plugin_option_string_t *next_cursor, bool *has_more);
// The value of `param` in the URL of the response's `Link: <...>; rel="next"`
// (a heap string), or NULL.
char *pb_next_link_param(const pb_response_t *response, const char *param);

// ---- configuration ---------------------------------------------------------

// A setting or non-secret credential as a heap string; NULL when unset or empty.
char *pb_setting(const char *name);

#endif
